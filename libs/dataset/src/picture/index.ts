export * from "./contact-sheet.js";
export * from "./overlay.js";
export * from "./palette.js";
