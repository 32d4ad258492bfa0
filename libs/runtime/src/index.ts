// Shared with the dataset lib and the services; kept importable from here for runtime users.
export {
  type AtomicWriteOptions,
  type ExecutionProviderChoice,
  jsonLinesLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  type LogRecord,
  MemoryLogger,
  silentLogger,
  writeFileAtomic,
} from "@exits/base";
export * from "./checkpoint/checkpoint-error.js";
export * from "./checkpoint/checkpoint-manifest.js";
export * from "./checkpoint/checkpoint-store.js";
export * from "./safetensors/safetensors-codec.js";
export * from "./safetensors/safetensors-error.js";
export * from "./safetensors/safetensors-file.js";
export * from "./safetensors/safetensors-header.js";
export * from "./session/graph-session.js";
export * from "./session/runtime-config.js";
export * from "./session/runtime-session.js";
export * from "./session/train-step-runner.js";
export * from "./tensor/half-float.js";
export * from "./tensor/host-tensor.js";
