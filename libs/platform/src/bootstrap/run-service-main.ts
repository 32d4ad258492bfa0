import { ConfigError } from "../config/config-error.js";
import type { GrpcServiceSpec } from "./service-spec.js";
import { type RunningService, startGrpcService } from "./start-grpc-service.js";

/**
 * Process entry point of a service: starts it, stops gracefully on SIGTERM/SIGINT (drain, then
 * grace: see `RunningService.shutdown`) and exits 0. A configuration error, a busy port or an
 * unbindable host included, prints one line naming the variable at fault and exits 2; any
 * other startup failure exits 1 with its stack.
 */
export async function runServiceMain(spec: GrpcServiceSpec): Promise<RunningService | undefined> {
  let running: RunningService;
  try {
    running = await startGrpcService(spec);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`exits ${spec.name}: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`exits ${spec.name}: failed to start: ${(error as Error).stack ?? error}\n`);
      process.exitCode = 1;
    }
    return undefined;
  }
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      running.shutdown(signal, running.config.shutdownDrainMs).then(
        () => process.exit(0),
        (error: Error) => {
          running.logger.error(error);
          process.exit(1);
        },
      );
    });
  }
  return running;
}
