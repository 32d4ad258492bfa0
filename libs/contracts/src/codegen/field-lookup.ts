import type { DescriptorProto, FieldDescriptorProto, FileDescriptorSet } from "@bufbuild/protobuf/wkt";
import { DESCRIPTOR_PATH } from "./descriptor-set.js";

/** A field reached by a dotted path from a root message, with its proto comment. */
export interface ResolvedField {
  field: FieldDescriptorProto;
  /** Leading + trailing comment text. */
  comment: string;
}

const { fileMessage: FILE_MESSAGE, messageField: MESSAGE_FIELD, messageNested: MESSAGE_NESTED } = DESCRIPTOR_PATH;

interface IndexedMessage {
  message: DescriptorProto;
  comments: Map<string, string>;
  path: number[];
}

/** Top-level and nested messages by fully qualified name without the leading dot ("exits.v1.X"). */
export function indexMessages(set: FileDescriptorSet): Map<string, IndexedMessage> {
  const index = new Map<string, IndexedMessage>();
  for (const file of set.file) {
    const comments = new Map<string, string>();
    for (const location of file.sourceCodeInfo?.location ?? []) {
      const text = `${location.leadingComments ?? ""}${location.trailingComments ?? ""}`.trim();
      if (text !== "") comments.set(location.path.join("."), text);
    }
    const visit = (message: DescriptorProto, path: number[], prefix: string) => {
      const name = `${prefix}.${message.name}`;
      index.set(name, { message, comments, path });
      for (const [i, nested] of message.nestedType.entries()) visit(nested, [...path, MESSAGE_NESTED, i], name);
    };
    for (const [i, message] of file.messageType.entries()) visit(message, [FILE_MESSAGE, i], file.package);
  }
  return index;
}

/**
 * Follows `a.b.c` (proto field names) from message `root` ("exits.v1.GeneratorTrainingConfig");
 * undefined when a step does not exist.
 */
export function resolveField(set: FileDescriptorSet, root: string, dotted: string): ResolvedField | undefined {
  const index = indexMessages(set);
  let current = index.get(root);
  const steps = dotted.split(".");
  for (const [i, step] of steps.entries()) {
    if (!current) return undefined;
    const position = current.message.field.findIndex((f) => f.name === step);
    if (position < 0) return undefined;
    const field = current.message.field[position]!;
    if (i === steps.length - 1) {
      return { field, comment: current.comments.get([...current.path, MESSAGE_FIELD, position].join(".")) ?? "" };
    }
    current = index.get(field.typeName.replace(/^\./, ""));
  }
  return undefined;
}
