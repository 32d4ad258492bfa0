/** A checkpoint that is missing, incomplete, damaged or not one: what is wrong, never a crash. */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
}
