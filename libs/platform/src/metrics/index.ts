export * from "./metrics-http-server.js";
export * from "./service-metrics.js";
