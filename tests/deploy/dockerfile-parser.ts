// A small Dockerfile parser, enough to check the image's structure without a Docker engine:
// parser directives and comments, `\` line continuations (comment lines inside one are dropped,
// as BuildKit does), JSON exec form, FROM ... AS name, COPY/ADD flags, ENV/ARG pairs and
// ${VAR} / $VAR substitution of global ARGs in FROM.

export interface Instruction {
  /** Upper-cased keyword: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, continuations joined with a space. */
  readonly args: string;
  /** The exec-form array when `args` is a JSON array of strings. */
  readonly exec?: readonly string[];
  /** 1-based line where the instruction starts. */
  readonly line: number;
}

export interface CopyInstruction {
  readonly from?: string;
  readonly sources: readonly string[];
  readonly destination: string;
  readonly line: number;
}

export interface Stage {
  readonly index: number;
  /** The `AS` name, lower-cased (Docker compares stage names case-insensitively). */
  readonly name?: string;
  /** The base: an image reference or an earlier stage's name. */
  readonly base: string;
  readonly instructions: readonly Instruction[];
}

export interface Dockerfile {
  /** ARGs before the first FROM (usable in FROM lines only). */
  readonly globalArgs: Readonly<Record<string, string>>;
  readonly stages: readonly Stage[];
}

export function parseInstructions(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let parts: string[] = [];
  let start = 0;
  const flush = () => {
    const joined = parts
      .map((p) => p.trim())
      .join(" ")
      .trim();
    parts = [];
    const match = /^(\S+)\s*(.*)$/s.exec(joined);
    if (!match) return;
    const args = match[2]!.trim();
    out.push({ keyword: match[1]!.toUpperCase(), args, exec: execForm(args), line: start });
  };
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (parts.length === 0) {
      if (trimmed === "" || trimmed.startsWith("#")) continue;
      start = i + 1;
    } else if (trimmed.startsWith("#") || trimmed === "") {
      continue;
    }
    const continued = /\\\s*$/.test(raw);
    parts.push(continued ? raw.replace(/\\\s*$/, "") : raw);
    if (!continued) flush();
  }
  // A continuation on the last line ends the instruction, as in BuildKit.
  if (parts.length > 0) flush();
  return out;
}

function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : undefined;
  } catch {
    return undefined;
  }
}

export function parseDockerfile(text: string): Dockerfile {
  const instructions = parseInstructions(text);
  const globalArgs: Record<string, string> = {};
  const stages: { index: number; name?: string; base: string; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const words = splitWords(instruction.args).filter((w) => !w.startsWith("--"));
      const base = substitute(words[0] ?? "", globalArgs);
      const asIndex = words.findIndex((w) => w.toUpperCase() === "AS");
      const name = asIndex >= 0 ? words[asIndex + 1]?.toLowerCase() : undefined;
      stages.push({ index: stages.length, name, base, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === "ARG") Object.assign(globalArgs, parsePairs(instruction.args));
    } else {
      stages[stages.length - 1]!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** `--from=x --chown=a:b src... dest`, or the JSON form. */
export function parseCopy(instruction: Instruction): CopyInstruction {
  const words = instruction.exec ? [...instruction.exec] : splitWords(instruction.args);
  let from: string | undefined;
  const paths: string[] = [];
  for (const word of words) {
    if (word.startsWith("--")) {
      const [flag, value] = word.slice(2).split("=", 2) as [string, string | undefined];
      if (flag === "from") from = value?.toLowerCase();
    } else {
      paths.push(word);
    }
  }
  if (paths.length < 2) throw new Error(`line ${instruction.line}: COPY needs a source and a destination`);
  return { from, sources: paths.slice(0, -1), destination: paths[paths.length - 1]!, line: instruction.line };
}

/** `ENV a=1 b="two words"` or the legacy `ENV a 1`; the same for ARG (`ARG name` has no value). */
export function parsePairs(args: string): Record<string, string> {
  const words = splitWords(args);
  if (words.length >= 1 && !words[0]!.includes("=")) {
    if (words.length === 1) return { [words[0]!]: "" };
    const legacy = /^\S+\s+(.*)$/s.exec(args);
    return { [words[0]!]: unquote(legacy?.[1] ?? "") };
  }
  const out: Record<string, string> = {};
  for (const word of words) {
    const eq = word.indexOf("=");
    if (eq > 0) out[word.slice(0, eq)] = word.slice(eq + 1);
  }
  return out;
}

/** Splits on unquoted whitespace; quotes are removed, backslash escapes kept literal. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = "";
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

function unquote(value: string): string {
  const v = value.trim();
  return (v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'")) ? v.slice(1, -1) : v;
}

function substitute(text: string, vars: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{(\w+)(?::?-([^}]*))?\}|\$(\w+)/g, (_, braced, fallback, bare) => {
    const name = braced ?? bare;
    const value = vars[name];
    return value !== undefined && value !== "" ? value : (fallback ?? "");
  });
}

/** The stage `ref` names (by AS name or index), or undefined when `ref` is an image. */
export function findStage(file: Dockerfile, ref: string): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = file.stages.find((s) => s.name === lower);
  if (byName) return byName;
  return /^\d+$/.test(ref) ? file.stages[Number(ref)] : undefined;
}

/** The stage followed by the stages it is built FROM, nearest first. */
export function stageChain(file: Dockerfile, stage: Stage): Stage[] {
  const chain = [stage];
  for (let base = findStage(file, stage.base); base && !chain.includes(base); base = findStage(file, base.base)) {
    chain.push(base);
  }
  return chain;
}

/** The environment a stage's RUNs see from ENV lines in it and the stages below it. */
export function stageEnv(file: Dockerfile, stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of stageChain(file, stage).reverse()) {
    for (const i of s.instructions) if (i.keyword === "ENV") Object.assign(env, parsePairs(i.args));
  }
  return env;
}

/** The image a stage finally stands on (the first FROM in its chain that is not a stage). */
export function baseImage(file: Dockerfile, stage: Stage): string {
  const chain = stageChain(file, stage);
  return chain[chain.length - 1]!.base;
}
