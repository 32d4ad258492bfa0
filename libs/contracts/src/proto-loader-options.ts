import type { Options } from "@grpc/proto-loader";
import { PROTO_ROOT } from "./proto-root.js";

/**
 * Options for `@grpc/proto-loader` (and NestJS's `loader` option of the gRPC transport) under
 * which the plain objects handed to and from handlers have exactly the shapes of the ts-proto
 * types in this package. Use these, not proto-loader's defaults:
 *
 * - `keepCase: false`: field names camelCase (`tau_fg` → `tauFg`), as ts-proto writes them.
 * - `longs: Number`: int64 / uint64 as `number` (ts-proto `forceLong=number`).
 * - `enums: Number`: enums as their numeric values (ts-proto enums are numeric `enum`s);
 *   `enums: String` would hand handlers names like "JOB_STATE_RUNNING" that the types reject.
 * - `bytes: Buffer`: bytes as Node `Buffer`, a `Uint8Array` as the types say.
 * - `defaults: true`: unset scalars arrive as 0 / "" / false and repeated fields as [], so
 *   non-optional scalar fields are always present, as the types promise. Caveat that no option
 *   removes: an unset MESSAGE field arrives as `null` (the types say `undefined`), so test message
 *   fields with `== null` / `!= null` or truthiness, never `=== undefined`.
 * - `oneofs: true`: adds a virtual property naming the member that is set (e.g.
 *   `source: "path"` on Image, `_tauFg: "tauFg"` for proto3 optionals). The types do not list
 *   it; it is harmless and useful for switching on a oneof.
 * - proto3 `optional` fields are NOT filled by `defaults: true` (they live in synthetic oneofs):
 *   unset stays `undefined`, which is how services tell "unset → default" from an explicit 0.
 * - `includeDirs: [PROTO_ROOT]`: imports are written `exits/v1/x.proto`.
 */
export const PROTO_LOADER_OPTIONS = {
  keepCase: false,
  longs: Number,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
} satisfies Options;
