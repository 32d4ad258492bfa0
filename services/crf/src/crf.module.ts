import type { JsonLogger } from "@exits/base";
import {
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  type ServiceConfig,
  type ServiceMetrics,
} from "@exits/platform";
import { Inject, Module, type OnApplicationShutdown } from "@nestjs/common";
import { CrfController } from "./crf.controller.js";
import { CrfRuntime } from "./crf-runtime.js";

/** CrfService: its runtime reads its own variables from the service configuration's environment. */
@Module({
  controllers: [CrfController],
  providers: [
    {
      provide: CrfRuntime,
      useFactory: (config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) =>
        new CrfRuntime(config, logger, metrics),
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS],
    },
  ],
})
export class CrfModule implements OnApplicationShutdown {
  constructor(@Inject(CrfRuntime) private readonly runtime: CrfRuntime) {}

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}
