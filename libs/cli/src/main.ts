#!/usr/bin/env node
import { Command } from "commander";
import { demoCommand } from "./commands/demo.command.js";
import { evaluateCommand } from "./commands/evaluate.command.js";
import { exportCommand } from "./commands/export.command.js";
import { exportShardCommand } from "./commands/export-shard.command.js";
import { pipelineCommand } from "./commands/pipeline.command.js";
import { retrieveCommand } from "./commands/retrieve.command.js";
import { selfCheckCommand } from "./commands/self-check.command.js";
import { serveCommand } from "./commands/serve.command.js";
import { sweepCommand } from "./commands/sweep.command.js";
import { trainExtractorCommand } from "./commands/train-extractor.command.js";
import { trainGeneratorCommand } from "./commands/train-generator.command.js";
import { SERVICE_NAMES } from "./service-registry.js";

const program = new Command()
  .name("exits")
  .description(
    "Pseudo instance masks from four extreme points per object (EXITS, CVPR 2024).\n\n" +
      "Annotators click the top, left, bottom and right point of each object; exits learns a mask\n" +
      "generator from those clicks alone and writes a COCO dataset of pseudo masks.\n" +
      "Start with `exits demo` (what `npm start` runs), then `exits pipeline` on your own COCO file.",
  )
  .showHelpAfterError("(add --help for the options)");

demoCommand(program);
pipelineCommand(program);
trainExtractorCommand(program);
retrieveCommand(program);
sweepCommand(program);
trainGeneratorCommand(program);
exportCommand(program);
exportShardCommand(program);
evaluateCommand(program);

program
  .command("serve")
  .argument("<service>", `one of ${SERVICE_NAMES.join(", ")}, or all (the six in one process, wired together)`)
  .description("run one gRPC service (configured by EXITS_* environment variables) until SIGTERM")
  .action(serveCommand);

program
  .command("self-check")
  .description("start all six services on loopback, check health, reflection and /metrics, stop them")
  .action(async () => {
    if (!(await selfCheckCommand())) process.exitCode = 1;
  });

await program.parseAsync(process.argv);
