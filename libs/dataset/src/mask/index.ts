export * from "./connected-components.js";
export * from "./mask-input-error.js";
export * from "./mask-types.js";
export * from "./polygon.js";
export * from "./rle-check.js";
export * from "./rle-dense.js";
export * from "./rle-ops.js";
export * from "./rle-string.js";
