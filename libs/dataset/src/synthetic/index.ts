export * from "./mix-seed.js";
export * from "./scene.js";
export * from "./shapes.js";
export * from "./synthetic-dataset.js";
export * from "./textures.js";
