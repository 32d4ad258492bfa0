export * from "./trainer.controller.js";
export * from "./trainer.module.js";
export * from "./trainer.service-spec.js";
