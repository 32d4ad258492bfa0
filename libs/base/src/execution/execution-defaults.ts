/**
 * ONNX Runtime execution providers a process may ask for: `auto` (CUDA when it loads, else the
 * CPU), `cpu`, `cuda` (falls back to the CPU with a warning). The one list and the one set of
 * defaults, read by the runtime's session config and by the services' environment config.
 */
export const executionProviders = ["auto", "cpu", "cuda"] as const;
export type ExecutionProviderChoice = (typeof executionProviders)[number];

export const defaultExecutionProvider: ExecutionProviderChoice = "auto";

/**
 * Intra-op threads unless configured. Fixed rather than derived from the core count: Node sees
 * the host's cores, not a container's CPU quota, so a pod limited to 2 CPUs on a 64-core node
 * would oversubscribe; and a fixed count keeps float reductions, hence results, the same on
 * every machine.
 */
export const defaultIntraOpThreads = 2;
