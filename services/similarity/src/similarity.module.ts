import type { JsonLogger } from "@exits/base";
import {
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  type ServiceConfig,
  type ServiceMetrics,
} from "@exits/platform";
import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from "@nestjs/common";
import { SimilarityController } from "./similarity.controller.js";
import { SimilarityRuntime } from "./similarity-runtime.js";

/** SimilarityService: its runtime reads its own variables from the service configuration's environment. */
@Module({
  controllers: [SimilarityController],
  providers: [
    {
      provide: SimilarityRuntime,
      useFactory: (config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) =>
        new SimilarityRuntime(config, logger, metrics),
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS],
    },
  ],
})
export class SimilarityModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(SimilarityRuntime) private readonly runtime: SimilarityRuntime) {}

  onModuleInit(): void {
    this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}
