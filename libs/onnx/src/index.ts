export * from "./lower.js";
export * from "./op-table.js";
export * from "./optimize.js";
export * from "./tensor-proto.js";
