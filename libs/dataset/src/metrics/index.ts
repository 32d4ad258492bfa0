export * from "./format-report.js";
export * from "./mask-metrics.js";
export * from "./point-metrics.js";
