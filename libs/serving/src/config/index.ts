export * from "./config-field.js";
export * from "./crf-config.js";
export * from "./crop-config.js";
export * from "./retrieval-config.js";
export * from "./similarity-config.js";
