import { type CocoObject, type CocoObjectOptions, type CocoObjectReport, readCocoObjects } from "./coco-objects.js";
import type { CocoAnnotation } from "./coco-types.js";
import { CocoWriter } from "./coco-writer.js";

/**
 * Batch conversion: reads `input` as objects (checked as `readCocoObjects` does), maps each
 * through `convert` (undefined drops it) and streams the results to `output` with the input's
 * images and categories unchanged. With `onInvalid: "skip"` malformed annotations are left out
 * and listed in the returned report instead of stopping the run. `output` appears atomically.
 */
export async function convertCoco(
  input: string,
  output: string,
  convert: (object: CocoObject) => Promise<CocoAnnotation | undefined> | CocoAnnotation | undefined,
  options: CocoObjectOptions = {},
): Promise<CocoObjectReport & { written: number }> {
  const { dataset, objects, report } = await readCocoObjects(input, options);
  const writer = await CocoWriter.open(output, dataset);
  try {
    for await (const object of objects) {
      const out = await convert(object);
      if (out) await writer.write(out);
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  return { ...report, written: writer.written };
}
