// Node module hooks: resolve `./x.js` to `./x.ts` when only the TypeScript source exists,
// and transpile `.ts` files with SWC (legacy decorators + decorator metadata for NestJS).
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import swc from "@swc/core";

const swcOptions = (filename) => ({
  filename,
  sourceMaps: "inline",
  module: { type: "es6" },
  jsc: {
    target: "es2022",
    parser: { syntax: "typescript", decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
});

export async function resolve(specifier, context, nextResolve) {
  const isRelative = specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("file:");
  if (isRelative && specifier.endsWith(".js") && context.parentURL?.startsWith("file:")) {
    const candidate = new URL(specifier.replace(/\.js$/, ".ts"), context.parentURL);
    if (!existsSync(fileURLToPath(new URL(specifier, context.parentURL))) && existsSync(fileURLToPath(candidate))) {
      return nextResolve(candidate.href, context);
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.startsWith("file:") && url.endsWith(".ts") && !url.endsWith(".d.ts")) {
    const filename = fileURLToPath(url);
    const source = await readFile(filename, "utf8");
    const { code } = await swc.transform(source, swcOptions(filename));
    return { format: "module", source: code, shortCircuit: true };
  }
  return nextLoad(url, context);
}

export { swcOptions };
