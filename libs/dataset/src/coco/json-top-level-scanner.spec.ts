import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CocoFileError } from "./coco-file-error.js";
import { JsonTopLevelScanner, type TopLevelAction, type TopLevelEvent } from "./json-top-level-scanner.js";

/** Runs the scanner over `text` cut into chunks of the given sizes and rebuilds the document. */
function scan(text: string, cuts: number[], action: (key: string) => TopLevelAction = () => "elements") {
  const bytes = Buffer.from(text, "utf8");
  const scanner = new JsonTopLevelScanner(action, "test.json");
  const events: TopLevelEvent[] = [];
  let pos = 0;
  let k = 0;
  while (pos < bytes.length) {
    const n = Math.max(1, cuts.length ? cuts[k++ % cuts.length]! : bytes.length);
    scanner.feed(bytes.subarray(pos, pos + n), events);
    pos += n;
  }
  scanner.end();
  // A Map, not an object: keys such as "__proto__" must stay plain keys.
  const doc = new Map<string, unknown>();
  for (const e of events) {
    if (e.kind === "value") doc.set(e.key, e.value);
    else doc.set(e.key, [...((doc.get(e.key) as unknown[] | undefined) ?? []), ...e.values]);
  }
  return { doc, events };
}

const valueArb = fc.jsonValue({ maxDepth: 3 });
const docArb = fc.dictionary(
  fc.string({ maxLength: 8 }),
  fc.oneof(fc.array(valueArb, { minLength: 1, maxLength: 6 }), valueArb),
  { maxKeys: 5 },
);

// Documents short enough to scan at every chunk size 1..length.
const smallDocArb = fc.dictionary(
  fc.string({ maxLength: 3 }),
  fc.oneof(fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 1, maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
  { maxKeys: 3 },
);

describe("JsonTopLevelScanner", () => {
  test("equals JSON.parse for any document and any chunking (arrays streamed as elements)", () => {
    fc.assert(
      fc.property(
        docArb,
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 9 }), { maxLength: 5 }),
        (doc, pretty, cuts) => {
          const text = pretty ? JSON.stringify(doc, null, 2) : JSON.stringify(doc);
          const { doc: got } = scan(text, cuts);
          // Empty arrays yield no elements: compare against the document without them.
          const expected = new Map(
            Object.entries(JSON.parse(text)).filter(([, v]) => !(Array.isArray(v) && v.length === 0)),
          );
          assert.deepEqual(got, expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("multi-byte characters split across chunks, escapes, BOM", () => {
    const text = `\ufeff{"a":["é☃𝄞","q\\"uo\\\\te\\"",{"k":"]}"}],"b":{"x":"[{"}}`;
    for (const cut of [1, 2, 3, 5]) {
      const { doc } = scan(text, [cut]);
      assert.deepEqual(Object.fromEntries(doc), { a: ["é☃𝄞", 'q"uo\\te"', { k: "]}" }], b: { x: "[{" } });
    }
  });

  test("skipped values keep no bytes and produce no events", () => {
    const { events } = scan(`{"a":[1,2,3],"b":{"deep":[[[1]]]},"c":[4]}`, [2], (k) =>
      k === "c" ? "elements" : "skip",
    );
    assert.deepEqual(events, [{ kind: "elements", key: "c", values: [4] }]);
  });

  test("stray and missing commas are rejected, with the same message at every chunk size", () => {
    const bad: [string, RegExp][] = [
      [`{,"a":1}`, /expected a key or '\}', got ','.*byte 1\)/],
      [`{"a":1,}`, /expected a key after ',', got '\}'.*byte 7\)/],
      [`{"a":1,,"b":2}`, /expected a key after ','.*byte 7\)/],
      [`{"a":1 "b":2}`, /expected ',' or '\}' after the value of "a", got '"'.*byte 7\)/],
      [`{"a":[1,,2]}`, /expected an element of "a", got ','.*byte 8\)/],
      [`{"a":[,1]}`, /expected an element of "a", got ','.*byte 6\)/],
      [`{"a":[1,]}`, /expected an element of "a", got '\]'.*byte 8\)/],
      [`{"a":[1 2]}`, /expected ',' or '\]' after an element of "a", got '2'.*byte 8\)/],
      [`{"a":[{"x":1}{"y":2}]}`, /expected ',' or '\]' after an element of "a", got '\{'/],
      [`{"a":["x""y"]}`, /expected ',' or '\]'/],
      [`{"a":[1],,"b":2}`, /expected a key after ','/],
      [`{"a":,1}`, /expected a value for "a", got ','/],
      [`{"a":[{"x":tru}]}`, /invalid JSON in an element of "a".*byte 6\)/],
    ];
    for (const [text, pattern] of bad) {
      const messages = new Set<string>();
      for (let size = 1; size <= text.length; size++) {
        assert.throws(() => scan(text, [size]), CocoFileError, `${text} at chunk size ${size}`);
        try {
          scan(text, [size]);
        } catch (e) {
          messages.add((e as Error).message);
        }
      }
      assert.equal(messages.size, 1, `${text}: ${[...messages].join(" | ")}`);
      assert.match([...messages][0]!, pattern);
    }
  });

  test("accepts exactly what JSON.parse accepts, at every chunk size (comma mutations)", () => {
    const mutated = fc
      .tuple(smallDocArb, fc.nat(), fc.constantFrom("delete", "insert", "double"))
      .map(([doc, at, how]) => {
        const text = JSON.stringify(doc);
        const commas = [...text].flatMap((ch, i) => (ch === "," ? [i] : []));
        const structural = [...text].flatMap((ch, i) => ("[{,".includes(ch) ? [i] : []));
        if (how === "delete" && commas.length) {
          const i = commas[at % commas.length]!;
          return text.slice(0, i) + text.slice(i + 1);
        }
        const i = structural[at % structural.length]! + 1;
        return how === "insert" ? `${text.slice(0, i)},${text.slice(i)}` : `${text.slice(0, i)},,${text.slice(i)}`;
      });
    fc.assert(
      fc.property(mutated, (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        const outcomes = new Set<string>();
        for (let size = 1; size <= text.length; size++) {
          try {
            scan(text, [size]);
            outcomes.add("ok");
          } catch (e) {
            assert.ok(e instanceof CocoFileError, String(e));
            outcomes.add(e.message);
          }
        }
        assert.equal(outcomes.size, 1, `${text}: ${[...outcomes].join(" | ")}`);
        assert.equal(outcomes.has("ok"), valid, text);
      }),
      { numRuns: 120 },
    );
  });

  test("malformed input fails with the file name and a byte position", () => {
    assert.throws(() => scan(`[1,2]`, []), /test\.json: expected '\{' .*byte 0/);
    assert.throws(() => scan(`{"a":[1,2]`, []), /test\.json: unexpected end of input/);
    assert.throws(() => scan(`{"a":[{"x":1},{"y":tru}]}`, [7]), /test\.json: invalid JSON in an element of "a"/);
    assert.throws(() => scan(`{"a" 1}`, []), /expected ':' after key "a"/);
    assert.throws(() => scan(`{"a":1} x`, []), /unexpected content after the end/);
  });
});
