import { type Logger, silentLogger } from "@exits/base";
import { progressPrinter } from "../progress-bar.js";

/** What every long-running command shares: progress on stderr, headings, warnings as one line. */
export function runContext(options: { quiet?: boolean } = {}) {
  const logger: Logger = options.quiet
    ? silentLogger
    : {
        ...silentLogger,
        warn: (message: string, fields?: Record<string, unknown>) =>
          process.stderr.write(`warning: ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}\n`),
        error: (message: string, fields?: Record<string, unknown>) =>
          process.stderr.write(`error: ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}\n`),
      };
  return {
    logger,
    onProgress: options.quiet ? undefined : progressPrinter(),
    onStage: options.quiet ? undefined : (_stage: string, detail: string) => process.stderr.write(`\n▶ ${detail}\n`),
  };
}

/**
 * Runs a command body; any error becomes one line on stderr naming what is wrong (the dataset
 * layer's errors already name the file, annotation id and field) and exit code 2 for bad input,
 * 1 otherwise. EXITS_DEBUG=1 prints the stack too.
 */
export async function runCommand(name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    const error = e as Error;
    const badInput =
      /CocoInputError|MethodConfigError|ImageDecodeError|InvalidArgument/.test(error.name) ||
      /^config |\.json: /.test(error.message);
    process.stderr.write(`exits ${name}: ${error.message}\n`);
    if (process.env.EXITS_DEBUG) process.stderr.write(`${error.stack}\n`);
    process.exitCode = badInput ? 2 : 1;
  }
}
