import { type DType, type Tensor, type TypedArray, topoSort } from "@exits/graph";
import { EmitContext } from "./emit-context.js";
import { opTable } from "./op-table.js";
import { optimizeGraph } from "./optimize.js";
import { type OnnxTypes, onnx } from "./proto.js";
import { valueInfo } from "./tensor-proto.js";

/** How {@link toOnnx} emits the graph. */
export interface LowerOptions {
  /** Params as graph inputs `param:<name>` (default) or baked in as initializers. */
  params?: "inputs" | "initializers";
  /** Values of every param, keyed by param name; required for `params: "initializers"`. */
  paramValues?: Map<string, TypedArray> | Record<string, TypedArray>;
  /** Default-domain opset, >= 18 (reductions take axes as an input). Default 20. */
  opset?: number;
  graphName?: string;
  /**
   * Store initializers of at least `minBytes` (default 1024) in a separate blob, ONNX
   * "external data", so the protobuf stays small. Write `bytes` as `<dir>/<model>.onnx` and
   * `external.bytes` as `<dir>/<location>`, then create the session from the model's path.
   */
  externalData?: { location: string; minBytes?: number };
  /**
   * Graph-level optimisations before emission (default true): composite regions (softmax,
   * layer norm, GELU) become native ONNX ops and their derived backward is simplified.
   * `false` emits every primitive as built (for debugging; numerically the reference).
   */
  optimize?: boolean;
}

/** One graph input or output of a lowered model: its ONNX name, static shape and element type. */
export interface IoSpec {
  name: string;
  shape: number[];
  dtype: DType;
}

/** A serialized ONNX model (IR 9) and its interface, ready for `InferenceSession.create`. */
export interface LoweredModel {
  bytes: Uint8Array;
  /** Present with `externalData`: the blob the model refers to by `location`. */
  external?: { location: string; bytes: Uint8Array };
  inputs: IoSpec[];
  outputs: IoSpec[];
}

export const IR_VERSION = 9;
export const DEFAULT_OPSET = 20;
/** protobuf messages cannot exceed 2 GiB; stay clear of it. */
export const MAX_MODEL_BYTES = 1.9 * 1024 ** 3;

function leafName(t: Tensor): string {
  const name = t.attrs["name"] as string;
  return t.op === "param" ? `param:${name}` : name;
}

function lookup(values: LowerOptions["paramValues"], name: string): TypedArray | undefined {
  if (!values) return undefined;
  return values instanceof Map ? values.get(name) : values[name];
}

/**
 * Lowers the graph reachable from `outputs` to a serialized ONNX model. Node and value names
 * follow a deterministic topological order, so the same build yields the same bytes.
 */
export function toOnnx(requested: Record<string, Tensor>, opts: LowerOptions = {}): LoweredModel {
  const outputs = opts.optimize === false ? requested : optimizeGraph(requested);
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (opset < 18) throw new Error(`toOnnx: opset ${opset} unsupported (need >= 18)`);
  const keys = Object.keys(outputs);
  if (keys.length === 0) throw new Error("toOnnx: no outputs");
  const order = topoSort(keys.map((k) => outputs[k]!));
  const ctx = new EmitContext();
  const names = new Map<number, string>();
  const inputs: IoSpec[] = [];
  const leaves = new Map<string, Tensor>();

  // Computed outputs write their value under the output's own name (no Identity needed).
  const claimed = new Map<number, string>();
  for (const key of keys) {
    const t = outputs[key]!;
    if (opTable[t.op] && !claimed.has(t.id)) claimed.set(t.id, key);
  }

  order.forEach((node, index) => {
    if (node.op === "input" || node.op === "param") {
      const name = leafName(node);
      const prev = leaves.get(name);
      if (prev) {
        if (prev.dtype !== node.dtype || prev.shape.join() !== node.shape.join())
          throw new Error(
            `toOnnx: "${name}" declared as [${prev.shape}] ${prev.dtype} and [${node.shape}] ${node.dtype}`,
          );
      } else {
        leaves.set(name, node);
        const baked = node.op === "param" && opts.params === "initializers";
        if (baked) {
          const values = lookup(opts.paramValues, node.attrs["name"] as string);
          if (!values) throw new Error(`toOnnx: no value for param "${node.attrs["name"]}"`);
          if (values.length !== node.size)
            throw new Error(`toOnnx: param "${node.attrs["name"]}" has ${values.length} values, expected ${node.size}`);
          ctx.addInitializer(name, node.shape, node.dtype, values);
        } else inputs.push({ name, shape: [...node.shape], dtype: node.dtype });
      }
      names.set(node.id, name);
      return;
    }
    if (node.op === "const") {
      names.set(node.id, ctx.constant(node.attrs["value"] as TypedArray, node.shape, node.dtype));
      return;
    }
    const lower = opTable[node.op];
    if (!lower) throw new Error(`toOnnx: no ONNX lowering for op "${node.op}"`);
    const out = claimed.get(node.id) ?? `_t${index}`;
    lower(
      ctx,
      node,
      node.inputs.map((x) => names.get(x.id)!),
      out,
    );
    names.set(node.id, out);
  });

  for (const key of keys)
    if (leaves.has(key) && outputs[key] !== leaves.get(key))
      throw new Error(`toOnnx: output "${key}" has the name of a graph input`);
  const outSpecs: IoSpec[] = keys.map((key) => {
    const t = outputs[key]!;
    if (names.get(t.id) !== key) ctx.node("Identity", [names.get(t.id)!], {}, key);
    return { name: key, shape: [...t.shape], dtype: t.dtype };
  });
  const external = opts.externalData ? moveToExternal(ctx.initializers, opts.externalData) : undefined;
  const inlineBytes = ctx.initializerBytes - (external?.bytes.length ?? 0);
  if (inlineBytes > MAX_MODEL_BYTES)
    throw new Error(
      `toOnnx: ${(inlineBytes / 1024 ** 3).toFixed(2)} GiB of inline initializers exceed protobuf's 2 GiB limit; lower with params: "inputs" (and feed the weights) or with externalData`,
    );

  const model: OnnxTypes.IModelProto = {
    irVersion: IR_VERSION,
    producerName: "exits",
    producerVersion: "0.1.0",
    opsetImport: [{ domain: "", version: opset }],
    graph: {
      name: opts.graphName ?? "exits",
      node: ctx.nodes,
      initializer: ctx.initializers,
      input: inputs.map((i) => valueInfo(i.name, i.shape, i.dtype)),
      output: outSpecs.map((o) => valueInfo(o.name, o.shape, o.dtype)),
    },
  };
  const bytes = onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  return external ? { bytes, external, inputs, outputs: outSpecs } : { bytes, inputs, outputs: outSpecs };
}

const EXTERNAL_ALIGN = 64;

/** Moves large initializers' raw data into one blob (64-byte aligned offsets). */
function moveToExternal(
  initializers: OnnxTypes.ITensorProto[],
  cfg: { location: string; minBytes?: number },
): { location: string; bytes: Uint8Array } {
  const minBytes = cfg.minBytes ?? 1024;
  const moved = initializers.filter((t) => (t.rawData?.length ?? 0) >= minBytes);
  let size = 0;
  const offsets = moved.map((t) => {
    const offset = Math.ceil(size / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    size = offset + t.rawData!.length;
    return offset;
  });
  const blob = new Uint8Array(size);
  moved.forEach((t, i) => {
    const data = t.rawData!;
    blob.set(data, offsets[i]!);
    t.rawData = undefined;
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: "location", value: cfg.location },
      { key: "offset", value: String(offsets[i]) },
      { key: "length", value: String(data.length) },
    ];
  });
  return { location: cfg.location, bytes: blob };
}
