export * from "./bind-error.js";
export * from "./contract-service-spec.js";
export * from "./platform-tokens.js";
export * from "./run-service-main.js";
export * from "./runtime-module.js";
export * from "./service-readiness.js";
export * from "./service-spec.js";
export * from "./start-grpc-service.js";
