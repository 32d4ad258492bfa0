import type { BinaryMask } from "@exits/dataset";
import type { MethodObject, ObjectSet } from "../data/object-set.js";

/** One object's pseudo mask over its full image, and its score (mean probability over the mask). */
export interface ObjectMask {
  mask: BinaryMask;
  score: number;
}

/**
 * Port (design.md, "Ports and adapters"): objects of a dataset → their pseudo masks. The export
 * depends on this; the embedded default is `cropMaskPredictor` over the in-process generator, a
 * cluster wires a MaskService client (libs/serving) that does the same over gRPC.
 */
export interface ObjectMaskPredictor {
  /** Objects per call the predictor works best with (the export groups objects by this). */
  readonly batch: number;
  predictObjects(set: ObjectSet, objects: readonly MethodObject[]): Promise<ObjectMask[]>;
}
