/** A configuration value that cannot be used; `variable` names the environment variable at fault. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`invalid configuration ${variable}: ${reason}`);
    this.name = "ConfigError";
  }
}
