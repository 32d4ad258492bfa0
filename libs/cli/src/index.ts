export * from "./service-registry.js";
export * from "./start-all-services.js";
