export * from "./coco/index.js";
export * from "./crop/index.js";
export * from "./image/index.js";
export * from "./mask/index.js";
export * from "./metrics/index.js";
export * from "./picture/index.js";
export * from "./points/index.js";
export * from "./synthetic/index.js";
