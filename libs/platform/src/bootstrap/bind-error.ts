import { ConfigError } from "../config/config-error.js";

/**
 * A failed bind as the `ConfigError` of the variable an operator must change: a port in use or
 * forbidden names the port variable, anything else (an unresolvable or foreign address) the host.
 * grpc-js reports its causes only inside the message text, hence the pattern match.
 */
export function bindError(
  error: unknown,
  where: { host: string; port: number; portVariable: string; what: string },
): ConfigError {
  const code = (error as NodeJS.ErrnoException).code;
  const text = `${code ?? ""} ${(error as Error)?.message ?? error}`;
  const address = `${where.host}:${where.port}`;
  if (/EADDRINUSE/.test(text))
    return new ConfigError(where.portVariable, `${where.what} port ${address} is already in use`);
  if (/EACCES/.test(text))
    return new ConfigError(where.portVariable, `${where.what} port ${address} needs privileges this process lacks`);
  const cause = /ENOTFOUND|EAI_AGAIN|EADDRNOTAVAIL/.exec(text)?.[0] ?? (error as Error)?.message ?? String(error);
  return new ConfigError(
    "EXITS_GRPC_HOST",
    `cannot bind the ${where.what} server to ${address} (${cause.split("\n")[0]})`,
  );
}
