import { fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type MethodDescriptorProto,
} from "@bufbuild/protobuf/wkt";

/** A message type with its fields by number, for decoding checks. */
export interface IndexedMessage {
  readonly fullName: string;
  readonly descriptor: DescriptorProto;
  readonly fieldsByNumber: ReadonlyMap<number, FieldDescriptorProto>;
}

/**
 * The `.proto` files a server serves, as protoc compiled them, indexed by file name and by every
 * fully qualified symbol they declare (messages, fields, oneofs, enums, enum values, services,
 * methods, extensions). Server reflection and the strict request decoder both read from it.
 */
export class DescriptorIndex {
  private readonly files = new Map<string, { proto: FileDescriptorProto; bytes: Uint8Array }>();
  private readonly fileOfSymbol = new Map<string, string>();
  private readonly messages = new Map<string, IndexedMessage>();
  private readonly methods = new Map<string, MethodDescriptorProto>();

  /** `sets`: binary FileDescriptorSets; a file name seen twice keeps its first descriptor. */
  constructor(sets: readonly Uint8Array[]) {
    for (const set of sets) {
      for (const file of fromBinary(FileDescriptorSetSchema, set).file) {
        if (this.files.has(file.name)) continue;
        this.files.set(file.name, { proto: file, bytes: toBinary(FileDescriptorProtoSchema, file) });
        this.indexFile(file);
      }
    }
    for (const [name, { proto }] of this.files) {
      for (const dependency of proto.dependency) {
        if (!this.files.has(dependency))
          throw new Error(`${name} imports ${dependency}, which no descriptor set holds`);
      }
    }
  }

  /** Serialized FileDescriptorProtos of `name` and of everything it imports, `name` first; undefined if unknown. */
  fileWithDependencies(name: string): Array<{ name: string; bytes: Uint8Array }> | undefined {
    if (!this.files.has(name)) return undefined;
    const order: string[] = [];
    const queue = [name];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (order.includes(next)) continue;
      order.push(next);
      queue.push(...this.files.get(next)!.proto.dependency);
    }
    return order.map((file) => ({ name: file, bytes: this.files.get(file)!.bytes }));
  }

  /** The file declaring a fully qualified symbol (no leading dot), or undefined. */
  fileOfSymbolName(symbol: string): string | undefined {
    return this.fileOfSymbol.get(symbol.replace(/^\./, ""));
  }

  /** A message type by fully qualified name (leading dot optional). */
  message(fullName: string): IndexedMessage | undefined {
    return this.messages.get(fullName.replace(/^\./, ""));
  }

  /** A method by its gRPC path, `/exits.v1.MaskService/PredictMasks`. */
  method(path: string): MethodDescriptorProto | undefined {
    return this.methods.get(path);
  }

  /** Every service declared, by fully qualified name. */
  serviceNames(): string[] {
    return [...this.files.values()].flatMap(({ proto }) =>
      proto.service.map((service) => qualify(proto.package, service.name)),
    );
  }

  private indexFile(file: FileDescriptorProto): void {
    const add = (symbol: string) => {
      if (!this.fileOfSymbol.has(symbol)) this.fileOfSymbol.set(symbol, file.name);
    };
    const addEnum = (e: EnumDescriptorProto, scope: string) => {
      add(qualify(scope, e.name));
      // Enum values are siblings of their enum in protobuf's scoping rules.
      for (const value of e.value) add(qualify(scope, value.name));
    };
    const addMessage = (message: DescriptorProto, scope: string) => {
      const fullName = qualify(scope, message.name);
      add(fullName);
      this.messages.set(fullName, {
        fullName,
        descriptor: message,
        fieldsByNumber: new Map(message.field.map((field) => [field.number, field])),
      });
      for (const field of [...message.field, ...message.extension]) add(`${fullName}.${field.name}`);
      for (const oneof of message.oneofDecl) add(`${fullName}.${oneof.name}`);
      for (const nested of message.nestedType) addMessage(nested, fullName);
      for (const e of message.enumType) addEnum(e, fullName);
    };
    for (const message of file.messageType) addMessage(message, file.package);
    for (const e of file.enumType) addEnum(e, file.package);
    for (const extension of file.extension) add(qualify(file.package, extension.name));
    for (const service of file.service) {
      const serviceName = qualify(file.package, service.name);
      add(serviceName);
      for (const method of service.method) {
        add(`${serviceName}.${method.name}`);
        this.methods.set(`/${serviceName}/${method.name}`, method);
      }
    }
  }
}

function qualify(scope: string, name: string): string {
  return scope === "" ? name : `${scope}.${name}`;
}
