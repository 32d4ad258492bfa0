export * from "./crf.controller.js";
export * from "./crf.module.js";
export * from "./crf.service-spec.js";
export * from "./crf-runtime.js";
