import { runServiceMain } from "@exits/platform";
import { isServiceName, loadServiceSpec, SERVICE_NAMES } from "../service-registry.js";

/** `exits serve <name>`: runs one service until SIGTERM; configuration comes from EXITS_* variables. */
export async function serveCommand(name: string): Promise<void> {
  if (!isServiceName(name)) {
    process.stderr.write(`exits serve: unknown service "${name}"; choose one of ${SERVICE_NAMES.join(", ")}\n`);
    process.exitCode = 2;
    return;
  }
  await runServiceMain(await loadServiceSpec(name));
}
