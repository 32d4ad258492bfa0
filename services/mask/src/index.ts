export * from "./mask.controller.js";
export * from "./mask.module.js";
export * from "./mask.service-spec.js";
export * from "./mask-runtime.js";
