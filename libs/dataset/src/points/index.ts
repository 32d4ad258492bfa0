export * from "./extreme-point-checks.js";
export * from "./extreme-points.js";
export * from "./extreme-points-from-mask.js";
