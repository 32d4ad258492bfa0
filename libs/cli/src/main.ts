#!/usr/bin/env node
import { Command } from "commander";
import { selfCheckCommand } from "./commands/self-check.command.js";
import { serveCommand } from "./commands/serve.command.js";
import { SERVICE_NAMES } from "./service-registry.js";

const program = new Command()
  .name("exits")
  .description("Pseudo instance masks from four extreme points per object (EXITS, CVPR 2024)");

program
  .command("serve")
  .argument("<service>", `one of ${SERVICE_NAMES.join(", ")}`)
  .description("run one gRPC service (configured by EXITS_* environment variables) until SIGTERM")
  .action(serveCommand);

program
  .command("self-check")
  .description("start all six services on loopback, check health, reflection and /metrics, stop them")
  .action(async () => {
    if (!(await selfCheckCommand())) process.exitCode = 1;
  });

program
  .command("start", { isDefault: true })
  .description("the embedded default job (`npm start`); until the pipeline lands, the services' self-check")
  .action(async () => {
    if (!(await selfCheckCommand())) process.exitCode = 1;
  });

await program.parseAsync(process.argv);
