/**
 * A problem with one annotation of an input file: names the file, the annotation id and what is
 * wrong, e.g. `instances.json: annotation 42: expected 4 extreme points (top, left, bottom,
 * right), got 3`. Batch readers either throw it or collect it in their report.
 */
export class CocoInputError extends Error {
  constructor(
    readonly file: string,
    readonly annotationId: number | undefined,
    readonly problem: string,
  ) {
    super(`${file}: annotation ${annotationId ?? "(no id)"}: ${problem}`);
    this.name = "CocoInputError";
  }
}
