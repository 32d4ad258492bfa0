import type { JsonLogger } from "@exits/base";
import {
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  type ServiceConfig,
  type ServiceMetrics,
} from "@exits/platform";
import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from "@nestjs/common";
import { RetrievalController } from "./retrieval.controller.js";
import { RetrievalRuntime } from "./retrieval-runtime.js";

/** RetrievalService: its runtime reads its own variables from the service configuration's environment. */
@Module({
  controllers: [RetrievalController],
  providers: [
    {
      provide: RetrievalRuntime,
      useFactory: (config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) =>
        new RetrievalRuntime(config, logger, metrics),
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS],
    },
  ],
})
export class RetrievalModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(RetrievalRuntime) private readonly runtime: RetrievalRuntime) {}

  onModuleInit(): void {
    this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}
