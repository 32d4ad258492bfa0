export * from "./similarity.controller.js";
export * from "./similarity.module.js";
export * from "./similarity.service-spec.js";
export * from "./similarity-runtime.js";
