export * from "./exits-grpc-server.js";
export * from "./grpc-status.filter.js";
export * from "./reject-undecodable.js";
export * from "./rpc-observer.js";
export * from "./strict-requests.js";
export * from "./wire-check.js";
