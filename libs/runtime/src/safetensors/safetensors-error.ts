/** A safetensors file or tensor that breaks the format, or a tensor it cannot hold as asked. */
export class SafetensorsError extends Error {
  override readonly name = "SafetensorsError";
}
