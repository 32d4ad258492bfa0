/** Where in a COCO file a problem lies, beyond the annotation id. */
export interface CocoInputLocation {
  /** The image entry the problem is about (its `id`). */
  imageId?: number;
  /** The field, e.g. `bbox`, `width, height`, `segmentation[0][5]`. */
  field?: string;
  /** Names an entry that has no usable id instead, e.g. `images[3]`. */
  entry?: string;
}

/**
 * A problem with an input file or one of its entries: names the file, the annotation or image
 * id, the field and what is wrong, e.g. `instances.json: annotation 42: bbox: width -3 is
 * negative`, `instances.json: image 7: width, height: a.jpg decodes to 1x1, the JSON says
 * 640x480`, `instances.json: images[3]: id: "7" is not a number`. Batch readers either throw it
 * or collect it in their report. A file whose JSON cannot be read at all is a `CocoFileError`.
 */
export class CocoInputError extends Error {
  readonly imageId: number | undefined;
  readonly field: string | undefined;

  constructor(
    readonly file: string,
    readonly annotationId: number | undefined,
    readonly problem: string,
    location: CocoInputLocation = {},
    options?: { cause?: unknown },
  ) {
    const parts = [file];
    if (location.entry) parts.push(location.entry);
    else if (annotationId !== undefined || location.imageId === undefined)
      parts.push(`annotation ${annotationId ?? "(no id)"}`);
    if (location.imageId !== undefined) parts.push(`image ${location.imageId}`);
    if (location.field) parts.push(location.field);
    super(`${parts.join(": ")}: ${problem}`, options);
    this.name = "CocoInputError";
    this.imageId = location.imageId;
    this.field = location.field;
  }
}
