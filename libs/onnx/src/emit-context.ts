import { createHash } from "node:crypto";
import type { DType, TypedArray } from "@exits/graph";
import { type OnnxTypes, onnx } from "./proto.js";
import { tensorProto } from "./tensor-proto.js";

/** `{ float: x }` forces a FLOAT attribute for an integral value (a plain number that is an integer is INT). */
export type AttrValue = number | readonly number[] | string | { readonly float: number };
const AttrType = onnx.AttributeProto.AttributeType;

function attribute(name: string, value: AttrValue): OnnxTypes.IAttributeProto {
  if (typeof value === "string") return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === "object" && "float" in value) return { name, type: AttrType.FLOAT, f: value.float };
  if (typeof value === "number") {
    return Number.isInteger(value) ? { name, type: AttrType.INT, i: value } : { name, type: AttrType.FLOAT, f: value };
  }
  return { name, type: AttrType.INTS, ints: [...value] };
}

/** Collects nodes and initializers while lowering; constants are deduplicated by content. */
export class EmitContext {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  initializerBytes = 0;
  /** Extra outputs of multi-output nodes, by the node's first output name, then by role. */
  readonly extraOutputs = new Map<string, Record<string, string>>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  /** Adds one node; returns its output name (`out`, or a fresh `<hint>_<k>`). */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const output = out ?? this.fresh();
    this.nodeOutputs(opType, inputs, attrs, [output]);
    return output;
  }

  /** Adds a node with several outputs (`""` skips an optional one). */
  nodeOutputs(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue>, outputs: string[]): void {
    this.nodes.push({
      name: `${opType}_${this.nodes.length}`,
      opType,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
  }

  /** A new intermediate value name. */
  fresh(): string {
    return `_v${this.counter++}`;
  }

  /** An initializer with the given content, shared with any identical one. */
  constant(values: TypedArray, dims: readonly number[], dtype: DType): string {
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const digest =
      bytes.length <= 32 ? Buffer.from(bytes).toString("hex") : createHash("sha256").update(bytes).digest("hex");
    const key = `${dtype}|${dims.join(",")}|${digest}`;
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = `_c${this.constants.size}`;
    this.constants.set(key, name);
    this.addInitializer(name, dims, dtype, values);
    return name;
  }

  addInitializer(name: string, dims: readonly number[], dtype: DType, values: TypedArray): void {
    this.initializers.push(tensorProto(name, dims, dtype, values));
    this.initializerBytes += values.byteLength;
  }

  ints(values: readonly number[]): string {
    return this.constant(
      BigInt64Array.from(values, (v) => BigInt(v)),
      [values.length],
      "int64",
    );
  }

  scalar(value: number, dtype: DType): string {
    const data =
      dtype === "float32"
        ? Float32Array.of(value)
        : dtype === "float64"
          ? Float64Array.of(value)
          : dtype === "int64"
            ? BigInt64Array.of(BigInt(value))
            : Uint8Array.of(value ? 1 : 0);
    return this.constant(data, [], dtype);
  }
}
