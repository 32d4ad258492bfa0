import type { JsonLogger } from "@exits/base";
import {
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  type ServiceConfig,
  type ServiceMetrics,
} from "@exits/platform";
import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from "@nestjs/common";
import { ExporterController } from "./exporter.controller.js";
import { ExporterRuntime } from "./exporter-runtime.js";

@Module({
  controllers: [ExporterController],
  providers: [
    {
      provide: ExporterRuntime,
      useFactory: (config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) =>
        new ExporterRuntime(config, logger, metrics),
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS],
    },
  ],
})
export class ExporterModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(ExporterRuntime) private readonly runtime: ExporterRuntime) {}

  /** recover() before serving: interrupted jobs resume, Get/List see every job. */
  async onModuleInit(): Promise<void> {
    await this.runtime.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}
