import type { JsonLogger } from "@exits/base";
import {
  SERVICE_CONFIG,
  SERVICE_LOGGER,
  SERVICE_METRICS,
  type ServiceConfig,
  type ServiceMetrics,
} from "@exits/platform";
import { Inject, Module, type OnApplicationShutdown, type OnModuleInit } from "@nestjs/common";
import { TrainerController } from "./trainer.controller.js";
import { TrainerRuntime } from "./trainer-runtime.js";

@Module({
  controllers: [TrainerController],
  providers: [
    {
      provide: TrainerRuntime,
      useFactory: (config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics) =>
        new TrainerRuntime(config, logger, metrics),
      inject: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS],
    },
  ],
})
export class TrainerModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(TrainerRuntime) private readonly runtime: TrainerRuntime) {}

  async onModuleInit(): Promise<void> {
    // Jobs a SIGKILL left RUNNING become INTERRUPTED and are re-queued from their checkpoints.
    await this.runtime.jobs.recover();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}
