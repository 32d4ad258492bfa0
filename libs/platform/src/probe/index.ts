export * from "./health-probe.js";
export * from "./loopback-env.js";
export * from "./metrics-probe.js";
export * from "./reflection-probe.js";
