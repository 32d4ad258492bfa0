import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorSet, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { type CodegenPaths, codegenPaths, listProtoFiles } from "./generate.js";

/** Field numbers inside descriptor.proto that make up SourceCodeInfo location paths. */
export const DESCRIPTOR_PATH = {
  fileMessage: 4,
  fileEnum: 5,
  fileService: 6,
  messageField: 2,
  messageNested: 3,
  messageEnum: 4,
  enumValue: 2,
  serviceMethod: 2,
} as const;

/** Compiles every file of proto/ with protoc, comments included (SourceCodeInfo). */
export function compileDescriptorSet(paths: CodegenPaths = codegenPaths()): FileDescriptorSet {
  const dir = mkdtempSync(join(tmpdir(), "exits-descriptors-"));
  try {
    const out = join(dir, "set.binpb");
    const result = spawnSync(
      paths.protoc,
      [
        `-I${paths.protoRoot}`,
        "--include_source_info",
        `--descriptor_set_out=${out}`,
        ...listProtoFiles(paths.protoRoot),
      ],
      { cwd: paths.protoRoot, encoding: "utf8" },
    );
    if (result.error) throw new Error(`cannot run ${paths.protoc}: ${result.error.message}`);
    if (result.status !== 0) throw new Error(`protoc failed: ${result.stderr}`);
    return fromBinary(FileDescriptorSetSchema, new Uint8Array(readFileSync(out)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
