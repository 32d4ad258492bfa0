import { isFloat } from "./dtype.js";
import { fail } from "./errors.js";
import { broadcastShapes } from "./shape.js";
import { shapeString, Tensor } from "./tensor.js";

/** Batched matrix product `[..., m, k] @ [..., k, n]`; batch dims broadcast. Both ranks >= 2. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) fail("matmul", "operand is not a Tensor");
  if (a.dtype !== b.dtype) fail("matmul", `dtype mismatch ${a.dtype} vs ${b.dtype}`);
  if (!isFloat(a.dtype)) fail("matmul", `unsupported dtype ${a.dtype}`);
  if (a.rank < 2 || b.rank < 2)
    fail("matmul", `operands need rank >= 2, got ${shapeString(a.shape)} @ ${shapeString(b.shape)}`);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) fail("matmul", `inner dims differ: ${shapeString(a.shape)} @ ${shapeString(b.shape)}`);
  const batch = broadcastShapes("matmul", a.shape.slice(0, -2), b.shape.slice(0, -2));
  return new Tensor("matmul", [a, b], {}, [...batch, m, n], a.dtype);
}
