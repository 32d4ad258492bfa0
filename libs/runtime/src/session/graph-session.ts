import type { Tensor } from "@exits/graph";
import { type LoweredModel, type LowerOptions, toOnnx } from "@exits/onnx";
import type { HostTensor } from "../tensor/host-tensor.js";
import { type CreateSessionOptions, createSession, type RuntimeSession } from "./runtime-session.js";

/** A graph lowered to ONNX together with the session that runs it. */
export interface CompiledGraph {
  readonly model: LoweredModel;
  readonly session: RuntimeSession;
  run(feeds: Readonly<Record<string, HostTensor>>, fetches?: readonly string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/**
 * Lowers the graph reachable from `outputs` (keys become ONNX output names) and opens an ONNX
 * Runtime session for it on the configured provider.
 */
export async function compileGraph(
  outputs: Record<string, Tensor>,
  options: CreateSessionOptions & { readonly lower?: LowerOptions } = {},
): Promise<CompiledGraph> {
  const model = toOnnx(outputs, options.lower);
  const session = await createSession(model.bytes, options);
  return {
    model,
    session,
    run: (feeds, fetches) => session.run(feeds, fetches),
    release: () => session.release(),
  };
}
