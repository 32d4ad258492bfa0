import { DomainError } from "@exits/platform";

/** Machine-readable reasons of `ObjectIssue.reason` (image.proto). */
export type IssueReason =
  | "missing_extreme_points"
  | "points_not_finite"
  | "points_outside_image"
  | "inconsistent_extreme_points"
  | "degenerate_box"
  | "image_missing"
  | "image_not_found"
  | "image_decode_failed"
  | "image_size_mismatch"
  | "invalid_transition";

/**
 * Bad input of one object: INVALID_ARGUMENT naming `field` when the call rejects bad objects
 * (the default), or an `ObjectIssue` when the client asked to skip them. A missing image file
 * is NOT_FOUND under REJECT, as image.proto says.
 */
export class ObjectInputError extends DomainError {
  constructor(
    readonly issueReason: IssueReason,
    readonly field: string,
    readonly reason: string,
    notFound = false,
  ) {
    super(notFound ? "not_found" : "invalid_argument", `${field}: ${reason}`);
  }
}
