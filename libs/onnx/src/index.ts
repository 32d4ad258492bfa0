export * from "./lower.js";
export * from "./op-table.js";
export * from "./tensor-proto.js";
