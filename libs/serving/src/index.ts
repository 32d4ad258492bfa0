export * from "./clients/contract-client.js";
export * from "./input/extreme-points-input.js";
export * from "./input/image-input.js";
export * from "./input/object-issue.js";
export * from "./paths/data-paths.js";
