/**
 * A COCO file that cannot be read as a whole: malformed JSON structure (with the byte offset
 * where the scanner stopped) or a top-level section of the wrong shape. `file` names it.
 * Problems with one entry of a readable file are `CocoInputError`s instead.
 */
export class CocoFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly byte?: number,
  ) {
    super(byte === undefined ? `${file}: ${problem}` : `${file}: ${problem} (near byte ${byte})`);
    this.name = "CocoFileError";
  }
}
