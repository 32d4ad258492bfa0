/** Injection tokens for what the platform hands every service module. */
export const SERVICE_CONFIG = Symbol.for("exits.platform.ServiceConfig");
export const SERVICE_LOGGER = Symbol.for("exits.platform.JsonLogger");
export const SERVICE_METRICS = Symbol.for("exits.platform.ServiceMetrics");
export const SERVICE_READINESS = Symbol.for("exits.platform.ServiceReadiness");
