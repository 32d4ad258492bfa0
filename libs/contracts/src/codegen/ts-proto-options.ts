/**
 * The pinned ts-proto options. Changing one changes every generated file: regenerate with
 * `npm run contracts:generate` and commit the result together with this file.
 *
 * - `nestJs=true`: `XxxServiceController` / `XxxServiceClient` interfaces and the
 *   `XxxServiceControllerMethods()` decorator; method names lower camel case.
 * - `importSuffix=.js`, `esModuleInterop=true`: the repo is NodeNext ESM.
 * - `forceLong=number`: int64/uint64 are `number` (matches proto-loader `longs: Number`).
 * - `useOptionals=messages`: message fields are `field?: T`; proto3 `optional` scalars are
 *   `field?: number` too, so "unset → default" survives; plain scalars are always present.
 * - `addGrpcMetadata=true`: handlers and clients take grpc-js `Metadata` as a second argument.
 * - `outputEncodeMethods` / `outputJsonMethods` / `outputPartialMethods`: binary codecs, canonical
 *   proto JSON (configs in files, manifests) and `create` / `fromPartial`, which nestJs=true
 *   would otherwise turn off.
 * - `annotateFilesWithVersion=false`: no protoc / ts-proto versions in headers, so output does
 *   not change with the toolchain's patch level.
 * - `exportCommonSymbols=false`: no `protobufPackage` / `DeepPartial` exported from every file
 *   (they would collide in the index's `export *`).
 */
export const TS_PROTO_OPTIONS: readonly string[] = [
  "nestJs=true",
  "importSuffix=.js",
  "esModuleInterop=true",
  "forceLong=number",
  "useOptionals=messages",
  "addGrpcMetadata=true",
  "outputEncodeMethods=true",
  "outputJsonMethods=true",
  "outputPartialMethods=true",
  "useDate=false",
  "annotateFilesWithVersion=false",
  "exportCommonSymbols=false",
];
