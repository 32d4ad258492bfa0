/** Error thrown while building or differentiating a graph; the message starts with the op name. */
export class GraphError extends Error {
  override name = "GraphError";
}

export function fail(op: string, message: string): never {
  throw new GraphError(`${op}: ${message}`);
}
