import { randomBytes } from "node:crypto";
import { InvalidArgumentError } from "@exits/platform";

/** Job ids: 9 base-36 digits of creation time (ms), "-", 8 hex digits; URL-safe and time-sortable. */
export const JOB_ID_PATTERN = /^[0-9a-z]{9}-[0-9a-f]{8}$/;

/**
 * Makes ids that sort in creation order within a process even when the clock stands still or
 * steps back (the time part never decreases), so "newest first" is the reverse id order.
 */
export class JobIdGenerator {
  private lastTime = 0;

  constructor(private readonly clock: () => number) {}

  /** Never returns an id below `floor` (the newest id already on disk), so restarts keep the order. */
  next(floor = ""): string {
    const floorTime = floor === "" ? 0 : Number.parseInt(floor.slice(0, 9), 36);
    const time = Math.max(Math.floor(this.clock()), this.lastTime + 1, floorTime + 1);
    this.lastTime = time;
    return `${time.toString(36).padStart(9, "0")}-${randomBytes(4).toString("hex")}`;
  }
}

/** Opaque ListJobs page token: base64url of the last id of the previous page. */
export function encodePageToken(lastId: string): string {
  return Buffer.from(`after:${lastId}`, "utf8").toString("base64url");
}

/** The last id a page token names; INVALID_ARGUMENT "page_token" for anything we did not issue. */
export function decodePageToken(token: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, "base64url").toString("utf8") : "";
  const id = text.startsWith("after:") ? text.slice("after:".length) : "";
  if (!JOB_ID_PATTERN.test(id))
    throw new InvalidArgumentError("page_token", "is not a token from a previous ListJobs response");
  return id;
}
