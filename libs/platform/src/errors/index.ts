export * from "./domain-error.js";
export * from "./grpc-status.js";
