import { ConfigError, EnvReader, runServiceMain } from "@exits/platform";
import { isServiceName, loadServiceSpec, SERVICE_NAMES } from "../service-registry.js";
import { startAllServices } from "../start-all-services.js";

/**
 * `exits serve <name>`: runs one service until SIGTERM; configuration comes from EXITS_*
 * variables. `exits serve all` runs the six in one process, wired to each other, on
 * EXITS_GRPC_PORT (default 50051) … + 5, metrics + 1000: a laptop-sized cluster.
 */
export async function serveCommand(name: string): Promise<void> {
  if (name === "all") return serveAll();
  if (!isServiceName(name)) {
    process.stderr.write(`exits serve: unknown service "${name}"; choose one of ${SERVICE_NAMES.join(", ")} or all\n`);
    process.exitCode = 2;
    return;
  }
  await runServiceMain(await loadServiceSpec(name));
}

async function serveAll(): Promise<void> {
  let all: Awaited<ReturnType<typeof startAllServices>>;
  try {
    const read = new EnvReader(process.env);
    all = await startAllServices(process.env, {
      host: read.string("EXITS_GRPC_HOST", "127.0.0.1"),
      basePort: read.port("EXITS_GRPC_PORT", 50051),
    });
  } catch (error) {
    process.stderr.write(`exits serve all: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
    process.exitCode = error instanceof ConfigError ? 2 : 1;
    return;
  }
  process.stderr.write(
    `${Object.entries(all.addresses)
      .map(([service, address]) => `${service.padEnd(10)} ${address}`)
      .join("\n")}\n`,
  );
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.once(signal, () => {
      all.shutdown(signal).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
}
