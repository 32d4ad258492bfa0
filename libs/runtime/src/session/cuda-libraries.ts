import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/**
 * Why the CUDA execution provider cannot load, judged from the files onnxruntime-node ships,
 * or undefined when its provider libraries are present (then only trying tells). The npm
 * package carries CPU binaries; the CUDA ones arrive only when its install script runs with
 * ONNXRUNTIME_NODE_INSTALL=cuda12 (the GPU image does this).
 */
export function missingCudaLibraries(): string | undefined {
  let binDir: string;
  try {
    const entry = createRequire(import.meta.url).resolve("onnxruntime-node");
    binDir = join(dirname(entry), "..", "bin", "napi-v6", process.platform, process.arch);
  } catch {
    return undefined;
  }
  if (!existsSync(join(binDir, "onnxruntime_binding.node"))) return undefined;
  const lib = process.platform === "win32" ? "onnxruntime_providers_cuda.dll" : "libonnxruntime_providers_cuda.so";
  return existsSync(join(binDir, lib))
    ? undefined
    : `${lib} is not installed beside onnxruntime-node (CPU-only install; a GPU image installs it with ONNXRUNTIME_NODE_INSTALL=cuda12)`;
}
