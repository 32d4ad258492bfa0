import type { DType, Shape } from "./dtype.js";

let nextId = 0;

/**
 * A composite's extent in the graph (softmax, layer norm, GELU, ...): every node created while
 * the composite was being built carries the same `Region`. It is metadata only — the nodes are
 * ordinary primitives and differentiate through the rule table — but it lets the lowering
 * recognise the composite (emit a native ONNX op, simplify its derived backward).
 */
export interface Region {
  /** Composite name: `"softmax" | "layerNorm" | "gelu"`. */
  readonly kind: string;
  /** Unique per process. */
  readonly id: number;
  /** The composite's tensor operands (its only dependencies besides constants). */
  readonly inputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, unknown>>;
  /** The composite's result (set when it is built). */
  output?: Tensor;
  /** Named internal values a lowering may need (e.g. layer norm's `rstd`). */
  parts: Record<string, Tensor>;
}

let activeRegion: Region | undefined;
let nextRegionId = 0;

/**
 * Builds a composite inside a region: every node `build` creates is tagged with it. Nested
 * composites belong to the outermost region.
 */
export function withRegion(
  kind: string,
  inputs: readonly Tensor[],
  attrs: Record<string, unknown>,
  build: () => { output: Tensor; parts?: Record<string, Tensor> },
): Tensor {
  if (activeRegion) return build().output;
  const region: Region = { kind, id: nextRegionId++, inputs, attrs, parts: {} };
  activeRegion = region;
  try {
    const { output, parts } = build();
    // An output that is not a new node of the region (a folded builder) leaves it unmarked.
    if (output.region === region) {
      region.output = output;
      region.parts = parts ?? {};
    }
    return output;
  } finally {
    activeRegion = undefined;
  }
}

/**
 * One node of the graph: the single output of a primitive op (or a leaf).
 * Immutable; the graph is whatever is reachable from the tensors you keep.
 */
export class Tensor {
  /** Creation order, unique per process; the graph walks sort by it for determinism. */
  readonly id: number;
  /** Primitive name (`"matmul"`, ...) or a leaf kind: `"input" | "param" | "const"`. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly shape: Shape;
  readonly dtype: DType;
  /** The composite this node was built inside (see {@link withRegion}), if any. */
  readonly region: Region | undefined;

  constructor(
    op: string,
    inputs: readonly Tensor[],
    attrs: Record<string, unknown>,
    shape: Shape,
    dtype: DType,
    region: Region | undefined = activeRegion,
  ) {
    this.id = nextId++;
    this.region = region;
    this.op = op;
    this.inputs = inputs;
    this.attrs = attrs;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }

  toString(): string {
    return `Tensor(${this.op}#${this.id}, [${this.shape.join(",")}], ${this.dtype})`;
  }
}

export function shapeString(shape: Shape): string {
  return `[${shape.join(",")}]`;
}
