export * from "./exits-grpc-server.js";
export * from "./grpc-status.filter.js";
export * from "./rpc-observer.js";
