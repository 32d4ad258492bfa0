export * from "./losses/dice.js";
export * from "./synthetic/disc-masks.js";
export * from "./vit/patch-mask-head.js";
export * from "./vit/pos-embed.js";
export * from "./vit/vit-config.js";
export * from "./vit/vit-encoder.js";
export * from "./vit/vit-params.js";
