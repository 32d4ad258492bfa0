import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { CheckpointError } from "./checkpoint-error.js";

export const checkpointFormat = "exits-checkpoint";
export const checkpointFormatVersion = 1;

/** What `manifest.json` records; its presence marks a checkpoint complete (it is written last). */
export interface CheckpointManifest {
  readonly format: typeof checkpointFormat;
  readonly version: number;
  readonly step: number;
  readonly createdAt: string;
  /** Every other file of the checkpoint, with size and SHA-256, so corruption is detected on load. */
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
  /** Versions of what produced it (node, onnxruntime, ...), for the record. */
  readonly producer: Readonly<Record<string, string>>;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Parses and validates `manifest.json`; anything but a well-formed manifest is a {@link CheckpointError}. */
export function parseManifest(text: string): CheckpointManifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`manifest is not JSON (${(e as Error).message})`);
  }
  if (!isObject(m)) throw new CheckpointError(`not an ${checkpointFormat} manifest`);
  if (m["format"] !== checkpointFormat) throw new CheckpointError(`not an ${checkpointFormat} manifest`);
  if (m["version"] !== checkpointFormatVersion) {
    throw new CheckpointError(`unsupported checkpoint version ${JSON.stringify(m["version"])}`);
  }
  const step = m["step"];
  if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError(`invalid step ${JSON.stringify(step)}`);
  }
  const createdAt = m["createdAt"];
  if (typeof createdAt !== "string") throw new CheckpointError("manifest lacks createdAt");
  const files = m["files"];
  if (!isObject(files)) throw new CheckpointError("manifest lacks its file list");
  const checked: [string, { bytes: number; sha256: string }][] = [];
  for (const [name, f] of Object.entries(files)) {
    const bytes = isObject(f) ? f["bytes"] : undefined;
    const sha256 = isObject(f) ? f["sha256"] : undefined;
    if (typeof bytes !== "number" || !Number.isSafeInteger(bytes) || bytes < 0) {
      throw new CheckpointError(`manifest entry ${JSON.stringify(name)} has no valid byte count`);
    }
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new CheckpointError(`manifest entry ${JSON.stringify(name)} has no valid SHA-256`);
    }
    checked.push([name, { bytes, sha256 }]);
  }
  const producer = m["producer"] ?? {};
  if (!isObject(producer) || !Object.values(producer).every((v) => typeof v === "string")) {
    throw new CheckpointError("manifest producer must map names to version strings");
  }
  return {
    format: checkpointFormat,
    version: checkpointFormatVersion,
    step,
    createdAt,
    // fromEntries defines own properties: a "__proto__" entry stays plain data.
    files: Object.fromEntries(checked),
    producer: Object.fromEntries(Object.entries(producer) as [string, string][]),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
