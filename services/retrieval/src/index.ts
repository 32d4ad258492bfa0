export * from "./retrieval.controller.js";
export * from "./retrieval.module.js";
export * from "./retrieval.service-spec.js";
export * from "./retrieval-runtime.js";
