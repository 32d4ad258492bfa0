import { type Tensor, Tensor as TensorNode } from "@exits/graph";

/** Replaces one node: `build` receives the rebuilt `deps` and returns the node's new value. */
export interface Substitution {
  deps: readonly Tensor[];
  build: (deps: Tensor[]) => Tensor;
}

/**
 * Rebuilds the graph reachable from `roots` with some nodes substituted. A substituted node's
 * dependencies are its substitution's `deps` (its old inputs are dropped, so whatever only fed
 * them disappears); other nodes are kept, or cloned (same op, attrs and region) when an input
 * changed. Iterative, so deep graphs are fine. Returns old node → new node for every node visited.
 */
export function rebuild(roots: readonly Tensor[], subst: ReadonlyMap<Tensor, Substitution>): Map<Tensor, Tensor> {
  const deps = (t: Tensor) => subst.get(t)?.deps ?? t.inputs;
  const done = new Map<Tensor, Tensor>();
  const onStack = new Set<Tensor>();
  for (const root of roots) {
    if (done.has(root)) continue;
    const stack: [Tensor, number][] = [[root, 0]];
    onStack.add(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, next] = top;
      const ds = deps(node);
      if (next < ds.length) {
        top[1] = next + 1;
        const child = ds[next]!;
        if (!done.has(child)) {
          if (onStack.has(child)) throw new Error(`rebuild: substitution creates a cycle at ${child}`);
          onStack.add(child);
          stack.push([child, 0]);
        }
        continue;
      }
      stack.pop();
      onStack.delete(node);
      const s = subst.get(node);
      if (s) {
        done.set(node, s.build(s.deps.map((d) => done.get(d)!)));
        continue;
      }
      const inputs = node.inputs.map((x) => done.get(x)!);
      const same = inputs.every((x, i) => x === node.inputs[i]);
      done.set(
        node,
        same ? node : new TensorNode(node.op, inputs, { ...node.attrs }, node.shape, node.dtype, node.region),
      );
    }
  }
  return done;
}

/** A stand-in consumer meaning "is a graph output". */
export const OUTPUTS = new TensorNode("outputs", [], {}, [], "float32", undefined);

/** Consumers of every node of `order` (the graph of `roots`); a graph output has {@link OUTPUTS}. */
export function consumers(roots: readonly Tensor[], order: readonly Tensor[]): Map<Tensor, Tensor[]> {
  const users = new Map<Tensor, Tensor[]>();
  const push = (x: Tensor, user: Tensor) => {
    const list = users.get(x);
    if (list) list.push(user);
    else users.set(x, [user]);
  };
  for (const node of order) for (const x of node.inputs) push(x, node);
  for (const r of roots) push(r, OUTPUTS);
  return users;
}
