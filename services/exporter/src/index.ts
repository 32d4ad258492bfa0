export * from "./exporter.controller.js";
export * from "./exporter.module.js";
export * from "./exporter.service-spec.js";
