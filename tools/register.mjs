// Registers the SWC loader so Node runs the TypeScript sources directly.
// SWC (unlike esbuild/tsx) emits decorator metadata, which NestJS dependency injection needs.
import { register } from "node:module";

register("./swc-loader.mjs", import.meta.url);
