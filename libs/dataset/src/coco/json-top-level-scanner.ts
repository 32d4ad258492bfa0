import { CocoFileError } from "./coco-file-error.js";

// An incremental scanner for a JSON document whose root is an object with a few large arrays
// (a COCO file). It only finds structure — where each top-level value and each element of a
// chosen array begins and ends, tracking strings, escapes and nesting byte by byte — and leaves
// the actual parsing to the native JSON.parse, once per chunk for a run of complete elements
// (the source text between them is checked to be one comma and whitespace, so `[` + slice + `]`
// is valid JSON exactly when every element is). Memory stays at one chunk plus one partly read
// element; speed stays close to JSON.parse because almost all parsing happens natively.
//
// The structure between values (commas, colons, brackets) is checked by the state machine
// itself, byte by byte, so whether a document is accepted, and the error it gets, never depends
// on where the read chunks end.

/** What to do with the value of a top-level key. */
export type TopLevelAction = "elements" | "value" | "skip";

/** Output of the scanner: a whole top-level value, or a batch of elements of a streamed array. */
export type TopLevelEvent =
  | { kind: "value"; key: string; value: unknown }
  | { kind: "elements"; key: string; values: unknown[] };

enum Mode {
  BeforeRoot,
  /** After `{`: a key or `}`. */
  KeyOrEnd,
  /** After a comma between top-level members: a key only. */
  Key,
  InKey,
  Colon,
  ValueStart,
  /** After a top-level value: `,` or `}`. */
  MemberEnd,
  /** After the `[` of a streamed array: an element or `]`. */
  ElementOrEnd,
  /** After a comma inside a streamed array: an element only. */
  Element,
  /** After an element of a streamed array: `,` or `]`. */
  ElementEnd,
  Capture,
  Done,
}

enum Target {
  Value,
  Element,
  Skip,
}

/** A whole JSON number, `true`, `false` or `null`: the only values not delimited by brackets or quotes. */
const JSON_PRIMITIVE = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)$/;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const show = (c: number) => (c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16)}`);

/**
 * Push parser: `feed` chunks in order, then `end`. `action(key)` decides per top-level key:
 * "elements" streams an array's elements in batches (a non-array value is delivered whole),
 * "value" parses the whole value, "skip" scans past it without keeping any bytes (nor checking
 * more than its bracket and string structure). Malformed input throws `CocoFileError`.
 */
export class JsonTopLevelScanner {
  private mode = Mode.BeforeRoot;
  private target = Target.Value;
  private key = "";
  private depth = 0;
  private inString = false;
  private escape = false;
  private primitive = false;
  private pending: Buffer | undefined;
  private pendingOffset = 0;
  /** Set by a scan that completed a value at the returned index. */
  private completed = false;
  /** Bytes fed so far, and the file position of the current buffer's first byte (for errors). */
  private consumed = 0;
  private bufOffset = 0;

  constructor(
    private readonly action: (key: string) => TopLevelAction,
    private readonly source = "JSON input",
  ) {}

  feed(chunk: Buffer, out: TopLevelEvent[]): void {
    let buf: Buffer;
    let i: number;
    let start = -1;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      i = this.pending.length;
      start = 0;
      this.bufOffset = this.pendingOffset;
      this.pending = undefined;
    } else {
      buf = chunk;
      i = 0;
      this.bufOffset = this.consumed;
    }
    this.consumed += chunk.length;
    const n = buf.length;
    // Complete, not yet parsed elements of this buffer, as [start, end) pairs.
    const run: number[] = [];
    const flushRun = () => {
      if (run.length === 0) return;
      const text = buf.toString("utf8", run[0]!, run[run.length - 1]!);
      let values: unknown[];
      try {
        values = JSON.parse(`[${text}]`) as unknown[];
      } catch {
        throw this.badElement(buf, run);
      }
      out.push({ kind: "elements", key: this.key, values });
      run.length = 0;
    };

    // A structural error is reported only after the complete elements before it are parsed, so
    // that the first problem in the file wins however the chunks fell.
    const fail = (at: number, message: string) => {
      flushRun();
      return this.error(at, message);
    };

    while (i < n) {
      const c = buf[i]!;
      switch (this.mode) {
        case Mode.BeforeRoot:
          if (c === 0x7b) this.mode = Mode.KeyOrEnd;
          else if (!isSpace(c) && !(this.bufOffset + i < 3 && (c === 0xef || c === 0xbb || c === 0xbf)))
            throw fail(i, "expected '{' at the start of the document");
          i++;
          break;
        case Mode.KeyOrEnd:
        case Mode.Key:
          if (c === 0x22) {
            this.mode = Mode.InKey;
            start = i;
            this.escape = false;
          } else if (c === 0x7d && this.mode === Mode.KeyOrEnd) this.mode = Mode.Done;
          else if (!isSpace(c))
            throw fail(
              i,
              this.mode === Mode.Key
                ? `expected a key after ',', got ${show(c)}`
                : `expected a key or '}', got ${show(c)}`,
            );
          i++;
          break;
        case Mode.InKey:
          if (this.escape) this.escape = false;
          else if (c === 0x5c) this.escape = true;
          else if (c === 0x22) {
            try {
              this.key = JSON.parse(buf.toString("utf8", start, i + 1)) as string;
            } catch (e) {
              throw fail(start, `invalid key: ${(e as Error).message}`);
            }
            start = -1;
            this.mode = Mode.Colon;
          }
          i++;
          break;
        case Mode.Colon:
          if (c === 0x3a) this.mode = Mode.ValueStart;
          else if (!isSpace(c)) throw fail(i, `expected ':' after key "${this.key}", got ${show(c)}`);
          i++;
          break;
        case Mode.ValueStart: {
          if (isSpace(c)) {
            i++;
            break;
          }
          if (c === 0x2c || c === 0x7d || c === 0x5d || c === 0x3a)
            throw fail(i, `expected a value for "${this.key}", got ${show(c)}`);
          const action = this.action(this.key);
          if (action === "elements" && c === 0x5b) {
            this.mode = Mode.ElementOrEnd;
            i++;
            break;
          }
          this.target = action === "skip" ? Target.Skip : Target.Value;
          start = i;
          i = this.beginCapture(buf, i);
          break;
        }
        case Mode.MemberEnd:
          if (c === 0x2c) this.mode = Mode.Key;
          else if (c === 0x7d) this.mode = Mode.Done;
          else if (!isSpace(c)) throw fail(i, `expected ',' or '}' after the value of "${this.key}", got ${show(c)}`);
          i++;
          break;
        case Mode.ElementEnd:
          if (c === 0x2c) this.mode = Mode.Element;
          else if (c === 0x5d) {
            flushRun();
            this.mode = Mode.MemberEnd;
          } else if (!isSpace(c))
            throw fail(i, `expected ',' or ']' after an element of "${this.key}", got ${show(c)}`);
          i++;
          break;
        case Mode.ElementOrEnd:
        case Mode.Element:
          if (isSpace(c)) i++;
          else if (c === 0x5d && this.mode === Mode.ElementOrEnd) {
            this.mode = Mode.MemberEnd;
            i++;
          } else if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x3a) {
            throw fail(i, `expected an element of "${this.key}", got ${show(c)}`);
          } else {
            this.target = Target.Element;
            start = i;
            i = this.beginCapture(buf, i);
          }
          break;
        case Mode.Capture:
          i = this.scanCapture(buf, i);
          break;
        case Mode.Done:
          if (!isSpace(c)) throw fail(i, "unexpected content after the end of the document");
          i++;
          break;
      }
      if (!this.completed) continue;
      // A capture just finished at `i`: deliver it.
      this.completed = false;
      if (this.target !== Target.Skip && this.primitive) {
        const token = buf.toString("latin1", start, i);
        this.primitive = false;
        if (!JSON_PRIMITIVE.test(token))
          throw fail(start, `invalid JSON value ${JSON.stringify(token)} in "${this.key}"`);
      }
      if (this.target === Target.Element) run.push(start, i);
      else if (this.target === Target.Value) {
        const text = buf.toString("utf8", start, i);
        try {
          out.push({ kind: "value", key: this.key, value: JSON.parse(text) });
        } catch (e) {
          throw fail(start, `invalid JSON in "${this.key}": ${(e as Error).message}`);
        }
      }
      start = -1;
    }
    flushRun();
    if ((this.mode === Mode.Capture && this.target !== Target.Skip) || this.mode === Mode.InKey) {
      this.pending = buf.subarray(start);
      this.pendingOffset = this.bufOffset + start;
    }
  }

  end(): void {
    this.bufOffset = this.consumed;
    if (this.mode !== Mode.Done) throw this.error(0, "unexpected end of input: the root object is not closed");
  }

  /** The first element of a run that JSON.parse rejects, reported on its own (chunking-proof). */
  private badElement(buf: Buffer, run: number[]): CocoFileError {
    for (let j = 0; j < run.length; j += 2) {
      try {
        JSON.parse(buf.toString("utf8", run[j]!, run[j + 1]!));
      } catch (e) {
        return this.error(run[j]!, `invalid JSON in an element of "${this.key}": ${(e as Error).message}`);
      }
    }
    return this.error(run[0]!, `invalid JSON in "${this.key}"`);
  }

  private beginCapture(buf: Buffer, i: number): number {
    const c = buf[i]!;
    this.mode = Mode.Capture;
    this.inString = false;
    this.escape = false;
    this.primitive = false;
    this.depth = 0;
    if (c === 0x7b || c === 0x5b) this.depth = 1;
    else if (c === 0x22) this.inString = true;
    else {
      this.primitive = true;
      return this.scanCapture(buf, i);
    }
    return this.scanCapture(buf, i + 1);
  }

  /** Scans a value from `i`; on completion sets the mode back and returns the index after it. */
  private scanCapture(buf: Buffer, i: number): number {
    const n = buf.length;
    if (this.primitive) {
      while (i < n) {
        const c = buf[i]!;
        if (c === 0x2c || c === 0x5d || c === 0x7d || isSpace(c)) {
          this.finishCapture();
          return i;
        }
        i++;
      }
      return i;
    }
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escape;
    while (i < n) {
      const c = buf[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 0x5c) escaped = true;
        else if (c === 0x22) {
          inString = false;
          if (depth === 0) {
            i++;
            break;
          }
        }
      } else if (c === 0x22) inString = true;
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) {
          i++;
          break;
        }
      }
      i++;
    }
    this.depth = depth;
    this.inString = inString;
    this.escape = escaped;
    if (depth === 0 && !inString) this.finishCapture();
    return i;
  }

  private finishCapture(): void {
    this.completed = true;
    this.mode = this.target === Target.Element ? Mode.ElementEnd : Mode.MemberEnd;
  }

  private error(index: number, message: string): CocoFileError {
    return new CocoFileError(this.source, message, this.bufOffset + index);
  }
}
