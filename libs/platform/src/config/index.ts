export * from "./config-error.js";
export * from "./data-dir.js";
export * from "./env-reader.js";
export * from "./service-config.js";
