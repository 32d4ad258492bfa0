export * from "./descriptor-index.js";
export * from "./reflection-server.js";
