// Transpiles every workspace package's src/ to dist/ with SWC (the same options the test loader
// uses, decorator metadata included), so production images run plain JavaScript from dist/.
// Type checking is `npm run typecheck`; `npm run build` runs both.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import swc from "@swc/core";
import { swcOptions } from "./swc-loader.mjs";

const root = new URL("..", import.meta.url).pathname;

function sources(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (name.endsWith(".ts") && !name.endsWith(".spec.ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

let files = 0;
for (const group of ["libs", "services"]) {
  for (const pkg of readdirSync(join(root, group))) {
    const src = join(root, group, pkg, "src");
    const dist = join(root, group, pkg, "dist");
    try {
      statSync(src);
    } catch {
      continue;
    }
    rmSync(dist, { recursive: true, force: true });
    for (const file of sources(src)) {
      const target = join(dist, relative(src, file)).replace(/\.ts$/, ".js");
      const { code } = await swc.transformFile(file, { ...swcOptions(file), sourceMaps: false });
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, code);
      files += 1;
    }
  }
}
console.log(`built ${files} files into dist/`);
