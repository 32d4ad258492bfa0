export * from "./coco-input-error.js";
export * from "./coco-objects.js";
export * from "./coco-reader.js";
export * from "./coco-types.js";
export * from "./coco-writer.js";
export * from "./convert-coco.js";
export * from "./export-annotation.js";
export * from "./segmentation.js";
