import type { Tensor } from "@exits/graph";
import type { EmitContext } from "./emit-context.js";
import { onnxDType } from "./tensor-proto.js";

/** Emits the ONNX nodes of one primitive; the last node must write `out`. */
export type Lowering = (ctx: EmitContext, node: Tensor, ins: string[], out: string) => void;

const simple =
  (opType: string): Lowering =>
  (ctx, _node, ins, out) => {
    ctx.node(opType, ins, {}, out);
  };

/**
 * ORT's CPU provider has no float64 kernel for some ops: run those in float32 between casts.
 * Only this op loses precision; the rest of a float64 graph stays float64.
 */
function viaFloat32(opType: string, attrs: (node: Tensor) => Record<string, number | number[]>): Lowering {
  return (ctx, node, ins, out) => {
    if (node.dtype !== "float64") {
      ctx.node(opType, ins, attrs(node), out);
      return;
    }
    const f32 = ins.map((name) => ctx.node("Cast", [name], { to: onnxDType.float32 }));
    ctx.node("Cast", [ctx.node(opType, f32, attrs(node))], { to: onnxDType.float64 }, out);
  };
}

const pairAttrs = (node: Tensor) => {
  const [sh, sw] = node.attrs["stride"] as number[];
  const [ph, pw] = node.attrs["padding"] as number[];
  const [dh, dw] = node.attrs["dilation"] as number[];
  const w = node.inputs[1]!.shape;
  const attrs: Record<string, number[]> = {
    kernel_shape: [w[2]!, w[3]!],
    strides: [sh!, sw!],
    pads: [ph!, pw!, ph!, pw!],
    dilations: [dh!, dw!],
  };
  if (node.op === "convTranspose2d") attrs["output_padding"] = node.attrs["outputPadding"] as number[];
  return attrs;
};

const reduce =
  (opType: string): Lowering =>
  (ctx, node, ins, out) => {
    const axes = ctx.ints(node.attrs["axes"] as number[]);
    ctx.node(opType, [ins[0]!, axes], { keepdims: node.attrs["keepdims"] ? 1 : 0 }, out);
  };

/** One entry per primitive of @exits/graph (leaves are handled by the lowering itself). */
export const opTable: Record<string, Lowering> = {
  neg: simple("Neg"),
  exp: simple("Exp"),
  log: simple("Log"),
  sqrt: simple("Sqrt"),
  reciprocal: simple("Reciprocal"),
  abs: simple("Abs"),
  sign: simple("Sign"),
  tanh: simple("Tanh"),
  erf: viaFloat32("Erf", () => ({})),
  relu: simple("Relu"),
  add: simple("Add"),
  sub: simple("Sub"),
  mul: simple("Mul"),
  div: simple("Div"),
  pow: simple("Pow"),
  maximum: simple("Max"),
  minimum: simple("Min"),
  less: simple("Less"),
  lessEqual: simple("LessOrEqual"),
  greater: simple("Greater"),
  greaterEqual: simple("GreaterOrEqual"),
  equal: simple("Equal"),
  logicalAnd: simple("And"),
  logicalOr: simple("Or"),
  logicalNot: simple("Not"),
  where: simple("Where"),
  cast: (ctx, node, ins, out) => {
    ctx.node("Cast", ins, { to: onnxDType[node.dtype] }, out);
  },
  stopGradient: simple("Identity"),
  sum: reduce("ReduceSum"),
  max: reduce("ReduceMax"),
  argmax: (ctx, node, ins, out) => {
    ctx.node("ArgMax", ins, { axis: node.attrs["axis"] as number, keepdims: node.attrs["keepdims"] ? 1 : 0 }, out);
  },
  matmul: simple("MatMul"),
  reshape: (ctx, node, ins, out) => {
    ctx.node("Reshape", [ins[0]!, ctx.ints(node.shape)], {}, out);
  },
  transpose: (ctx, node, ins, out) => {
    ctx.node("Transpose", ins, { perm: node.attrs["perm"] as number[] }, out);
  },
  slice: (ctx, node, ins, out) => {
    const x = node.inputs[0]!;
    const starts = node.attrs["starts"] as number[];
    const ends = node.attrs["ends"] as number[];
    const steps = node.attrs["steps"] as number[];
    const axes = x.shape.map((_, a) => a).filter((a) => starts[a] !== 0 || ends[a] !== x.shape[a] || steps[a] !== 1);
    const inputs = [
      ins[0]!,
      ctx.ints(axes.map((a) => starts[a]!)),
      ctx.ints(axes.map((a) => ends[a]!)),
      ctx.ints(axes),
    ];
    if (axes.some((a) => steps[a] !== 1)) inputs.push(ctx.ints(axes.map((a) => steps[a]!)));
    ctx.node("Slice", inputs, {}, out);
  },
  concat: (ctx, node, ins, out) => {
    ctx.node("Concat", ins, { axis: node.attrs["axis"] as number }, out);
  },
  pad: (ctx, node, ins, out) => {
    const pads = node.attrs["pads"] as [number, number][];
    const value = ctx.scalar(node.attrs["value"] as number, node.dtype);
    ctx.node(
      "Pad",
      [ins[0]!, ctx.ints([...pads.map((p) => p[0]), ...pads.map((p) => p[1])]), value],
      { mode: "constant" },
      out,
    );
  },
  gather: (ctx, node, ins, out) => {
    ctx.node("Gather", ins, { axis: node.attrs["axis"] as number }, out);
  },
  expand: (ctx, node, ins, out) => {
    ctx.node("Expand", [ins[0]!, ctx.ints(node.shape)], {}, out);
  },
  conv2d: viaFloat32("Conv", pairAttrs),
  convTranspose2d: viaFloat32("ConvTranspose", pairAttrs),

  // Lowering-only nodes made by `optimizeGraph` from composite regions (never differentiated).
  "onnx.softmax": (ctx, node, ins, out) => {
    ctx.node("Softmax", ins, { axis: node.attrs["axis"] as number }, out);
  },
  "onnx.gelu": simple("Gelu"),
  "onnx.layerNorm": (ctx, node, ins, out) => {
    const d = node.shape[node.rank - 1]!;
    const scale =
      ins[1] ??
      ctx.constant(
        node.dtype === "float64" ? new Float64Array(d).fill(1) : new Float32Array(d).fill(1),
        [d],
        node.dtype,
      );
    const outputs = [out];
    if (node.attrs["invStd"]) {
      const invStd = ctx.fresh();
      outputs.push("", invStd);
      ctx.extraOutputs.set(out, { rstd: invStd });
    }
    ctx.nodeOutputs(
      "LayerNormalization",
      [ins[0]!, scale, ...ins.slice(2)],
      { axis: -1, epsilon: { float: node.attrs["epsilon"] as number }, stash_type: onnxDType[node.dtype] },
      outputs,
    );
  },
  "onnx.output": (ctx, node, ins, out) => {
    const name = ctx.extraOutputs.get(ins[0]!)?.[node.attrs["name"] as string];
    if (!name) throw new Error(`toOnnx: no output "${node.attrs["name"]}" on ${ins[0]}`);
    ctx.node("Identity", [name], {}, out);
  },
};
