export * from "./decode-image.js";
export * from "./encode-image.js";
export * from "./rgb-image.js";
