import type { DType, Shape } from "./dtype.js";

let nextId = 0;

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

  constructor(op: string, inputs: readonly Tensor[], attrs: Record<string, unknown>, shape: Shape, dtype: DType) {
    this.id = nextId++;
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
