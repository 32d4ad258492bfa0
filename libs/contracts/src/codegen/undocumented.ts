import type {
  DescriptorProto,
  EnumDescriptorProto,
  FileDescriptorSet,
  SourceCodeInfo_Location,
} from "@bufbuild/protobuf/wkt";
import { compileDescriptorSet, DESCRIPTOR_PATH } from "./descriptor-set.js";

const {
  fileMessage: FILE_MESSAGE,
  fileEnum: FILE_ENUM,
  fileService: FILE_SERVICE,
  messageField: MESSAGE_FIELD,
  messageNested: MESSAGE_NESTED,
  messageEnum: MESSAGE_ENUM,
  enumValue: ENUM_VALUE,
  serviceMethod: SERVICE_METHOD,
} = DESCRIPTOR_PATH;

/**
 * Every message, field, enum, enum value, service and RPC of proto/ that has neither a leading
 * nor a trailing comment, as fully qualified names. The API's units and coordinate conventions
 * live in those comments, so the contract test requires this list to be empty.
 */
export function undocumentedElements(set: FileDescriptorSet = compileDescriptorSet()): string[] {
  const missing: string[] = [];
  for (const file of set.file) {
    const documented = new Set(
      (file.sourceCodeInfo?.location ?? []).filter(hasComment).map((location) => location.path.join(".")),
    );
    const check = (path: number[], name: string) => {
      if (!documented.has(path.join("."))) missing.push(`${file.name}: ${name}`);
    };
    const visitEnum = (e: EnumDescriptorProto, path: number[], prefix: string) => {
      check(path, `${prefix}${e.name}`);
      for (const [i, v] of e.value.entries()) check([...path, ENUM_VALUE, i], `${prefix}${e.name}.${v.name}`);
    };
    const visitMessage = (m: DescriptorProto, path: number[], prefix: string) => {
      if (m.options?.mapEntry) return;
      const name = `${prefix}${m.name}`;
      check(path, name);
      for (const [i, f] of m.field.entries()) check([...path, MESSAGE_FIELD, i], `${name}.${f.name}`);
      for (const [i, n] of m.nestedType.entries()) visitMessage(n, [...path, MESSAGE_NESTED, i], `${name}.`);
      for (const [i, e] of m.enumType.entries()) visitEnum(e, [...path, MESSAGE_ENUM, i], `${name}.`);
    };
    for (const [i, m] of file.messageType.entries()) visitMessage(m, [FILE_MESSAGE, i], "");
    for (const [i, e] of file.enumType.entries()) visitEnum(e, [FILE_ENUM, i], "");
    for (const [i, s] of file.service.entries()) {
      check([FILE_SERVICE, i], s.name);
      for (const [j, m] of s.method.entries()) check([FILE_SERVICE, i, SERVICE_METHOD, j], `${s.name}.${m.name}`);
    }
  }
  return missing;
}

function hasComment(location: SourceCodeInfo_Location): boolean {
  return (location.leadingComments ?? "").trim() !== "" || (location.trailingComments ?? "").trim() !== "";
}
