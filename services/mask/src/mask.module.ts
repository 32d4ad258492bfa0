import type { JsonLogger } from "@exits/base";
import {
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  SERVICE_READINESS,
  type ServiceConfig,
  type ServiceMetrics,
  type ServiceReadiness,
} from "@exits/platform";
import { Inject, Module, type OnApplicationShutdown, type OnModuleInit, type Type } from "@nestjs/common";
import { MaskController } from "./mask.controller.js";
import { MaskRuntime, type MaskRuntimeHooks } from "./mask-runtime.js";

/**
 * A MaskService module; health follows the default generator through the platform's readiness
 * (NOT_SERVING while it loads or is absent). `hooks` are for tests; `MaskModule` has none.
 */
export function maskModule(hooks: MaskRuntimeHooks = {}): Type<unknown> {
  @Module({
    controllers: [MaskController],
    providers: [
      {
        provide: MaskRuntime,
        useFactory: (config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics, readiness: ServiceReadiness) =>
          new MaskRuntime(config, logger, metrics, readiness, hooks),
        inject: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, SERVICE_READINESS],
      },
    ],
  })
  class BoundMaskModule implements OnModuleInit, OnApplicationShutdown {
    constructor(@Inject(MaskRuntime) private readonly runtime: MaskRuntime) {}

    onModuleInit(): void {
      this.runtime.start();
    }

    async onApplicationShutdown(): Promise<void> {
      await this.runtime.close();
    }
  }
  return BoundMaskModule;
}

export const MaskModule = maskModule();
