import type { CocoInputError } from "@exits/dataset";
import type { IssueReason } from "../input/object-issue.js";
import type { SkipReasonName } from "./export-types.js";

/**
 * The SkipReason of an annotation problem `readCocoObjects` reported (its `field` and `problem`).
 * The proto has no reason for a malformed bbox, an unknown category or an unreadable
 * segmentation; those count as INCONSISTENT_EXTREME_POINTS (the annotation contradicts itself)
 * and the message says what is wrong.
 */
export function skipReasonOfCocoError(error: CocoInputError, imageProblems: ReadonlySet<number>): SkipReasonName {
  const field = error.field ?? "";
  if (field === "image_id")
    return imageProblems.size && isBadImageRef(error, imageProblems) ? "IMAGE_INVALID" : "UNKNOWN_IMAGE";
  if (field === "file_name") return /is missing/.test(error.problem) ? "IMAGE_NOT_FOUND" : "IMAGE_INVALID";
  if (field === "width" || field === "height" || field === "width, height") return "IMAGE_INVALID";
  if (field === "extreme_points") {
    if (/not an array|expected 4 extreme points|is not \[x, y\]/.test(error.problem)) return "MISSING_EXTREME_POINTS";
    if (/lies outside/.test(error.problem)) return "POINT_OUTSIDE_IMAGE";
    return "INCONSISTENT_EXTREME_POINTS";
  }
  return "INCONSISTENT_EXTREME_POINTS";
}

/** An "unknown image" whose id is that of an `images` entry dropped as malformed: the image is invalid. */
function isBadImageRef(error: CocoInputError, imageProblems: ReadonlySet<number>): boolean {
  const id = Number(/^(-?\d+(?:\.\d+)?) is not the id/.exec(error.problem)?.[1]);
  return imageProblems.has(id);
}

/** The SkipReason of a wire-style point check (`extremePointsFromWire`) failure. */
export function skipReasonOfIssue(reason: IssueReason): SkipReasonName {
  switch (reason) {
    case "missing_extreme_points":
    case "points_not_finite":
      return "MISSING_EXTREME_POINTS";
    case "points_outside_image":
      return "POINT_OUTSIDE_IMAGE";
    case "degenerate_box":
      return "DEGENERATE_BOX";
    case "image_missing":
    case "image_not_found":
      return "IMAGE_NOT_FOUND";
    case "image_decode_failed":
    case "image_size_mismatch":
      return "IMAGE_INVALID";
    default:
      return "INCONSISTENT_EXTREME_POINTS";
  }
}
