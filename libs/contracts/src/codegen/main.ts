// `npm run contracts:generate` regenerates libs/contracts/src/generated from proto/;
// `npm run contracts:check` exits 1 when the committed output differs from a fresh generation.
import { diffGenerated, regenerate } from "./generate.js";

if (process.argv.includes("--check")) {
  const differences = diffGenerated();
  for (const { file, problem } of differences) console.error(`${problem}: libs/contracts/src/generated/${file}`);
  if (differences.length > 0) {
    console.error("generated contracts are out of date: run `npm run contracts:generate`");
    process.exit(1);
  }
  console.log("generated contracts are up to date");
} else {
  const files = regenerate();
  console.log(`generated ${files.length} files into libs/contracts/src/generated`);
}
