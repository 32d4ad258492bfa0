export * from "./execution/execution-defaults.js";
export * from "./fs/atomic-file.js";
export * from "./fs/durable-file-system.js";
export * from "./logging/json-logger.js";
export * from "./logging/logger.js";
export * from "./testing/fuzz-runs.js";
