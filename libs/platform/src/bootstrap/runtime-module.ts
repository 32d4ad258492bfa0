import type { JsonLogger } from "@exits/base";
import {
  Inject,
  type InjectionToken,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Type,
} from "@nestjs/common";
import type { ServiceConfig } from "../config/service-config.js";
import type { ServiceMetrics } from "../metrics/service-metrics.js";
import { SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, SERVICE_READINESS } from "./platform-tokens.js";
import type { ServiceReadiness } from "./service-readiness.js";

/** What the platform hands a service's runtime: its configuration, log, metrics and readiness. */
export interface ServiceContext {
  config: ServiceConfig;
  logger: JsonLogger;
  metrics: ServiceMetrics;
  readiness: ServiceReadiness;
}

/** A service's long-lived state (registries, engines, job managers) behind its controller. */
export interface ServiceRuntime {
  /** Before the first call is served (e.g. recover jobs, start loading the default model). */
  start?(): void | Promise<void>;
  /** At shutdown, after the server stopped taking calls. */
  close?(): Promise<void>;
}

/**
 * The NestJS module of a service: `controller` over one runtime, built by `create` from the
 * platform's context and provided under `token` (the controller injects it), started before
 * serving and closed at shutdown. Every exits.v1 service is this one shape.
 */
export function runtimeModule<R extends ServiceRuntime>(
  controller: Type<unknown>,
  token: InjectionToken,
  create: (context: ServiceContext) => R,
): Type<unknown> {
  @Module({
    controllers: [controller],
    providers: [
      {
        provide: token,
        useFactory: (config: ServiceConfig, logger: JsonLogger, metrics: ServiceMetrics, readiness: ServiceReadiness) =>
          create({ config, logger, metrics, readiness }),
        inject: [SERVICE_CONFIG, SERVICE_LOGGER, SERVICE_METRICS, SERVICE_READINESS],
      },
    ],
  })
  class RuntimeModule implements OnModuleInit, OnApplicationShutdown {
    constructor(@Inject(token) private readonly runtime: R) {}

    async onModuleInit(): Promise<void> {
      await this.runtime.start?.();
    }

    async onApplicationShutdown(): Promise<void> {
      await this.runtime.close?.();
    }
  }
  return RuntimeModule;
}
