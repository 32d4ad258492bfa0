import type { Tensor } from "./tensor.js";

/** All nodes reachable from `roots`, inputs before users (iterative DFS: deep graphs are fine). */
export function topoSort(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const state = new Map<number, 1 | 2>(); // 1 = on stack, 2 = done
  for (const root of roots) {
    if (state.has(root.id)) continue;
    const stack: [Tensor, number][] = [[root, 0]];
    state.set(root.id, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, next] = top;
      if (next < node.inputs.length) {
        top[1] = next + 1;
        const child = node.inputs[next]!;
        if (!state.has(child.id)) {
          state.set(child.id, 1);
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        state.set(node.id, 2);
        order.push(node);
      }
    }
  }
  return order;
}
