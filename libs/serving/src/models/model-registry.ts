import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Logger } from "@exits/base";
import { loadModel, type MethodConfig, type ModelKind, type ModelManifest } from "@exits/exits";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from "@exits/platform";
import type { HostTensor } from "@exits/runtime";
import type { DataPaths } from "../paths/data-paths.js";

const MANIFEST = "manifest.json";
const WEIGHTS = "weights.safetensors";
const VERSION = /^v(\d+)$/;

/** What a loader returns; `loadModel` from @exits/exits by default (tests inject slow ones). */
export type ModelLoader = (
  dir: string,
  kind: ModelKind,
) => Promise<{ manifest: ModelManifest; parameters: ReadonlyMap<string, HostTensor> }>;

export interface ModelRegistryOptions {
  paths: DataPaths;
  kind: ModelKind;
  /** Client path of the default model, e.g. "models/generator"; used when a request says "". */
  defaultModel: string;
  logger?: Logger;
  /** Seconds one version took to load (weights read + hashed), for the model-load metric. */
  onLoad?: (seconds: number, lease: { clientPath: string; version: string }) => void;
  /** Called whenever the default model's readiness changes (a version loaded or not). */
  onReadyChange?: (ready: boolean) => void;
  /**
   * Called whenever `isServable()` changes: what a service's health (readiness) should follow.
   * False only while there is a default model and none of its versions has loaded yet.
   */
  onServableChange?: (servable: boolean) => void;
  /** How often the default model directory is rescanned for new versions; 0 = only on acquire. Default 2000. */
  pollMs?: number;
  /** Most loaded versions kept (least recently used beyond this are released once idle). Default 4. */
  maxLoaded?: number;
  loader?: ModelLoader;
}

/** One use of one loaded model version; `release()` when the call is done (idempotent). */
export interface ModelLease {
  /** Absolute directory of the version (holds manifest.json and weights.safetensors). */
  readonly dir: string;
  /** `dir` as clients see it, relative to the data directory. */
  readonly clientPath: string;
  /** "v3" for a versioned model, "" when the model directory is itself the model. */
  readonly version: string;
  readonly manifest: ModelManifest;
  readonly config: MethodConfig;
  readonly parameters: ReadonlyMap<string, HostTensor>;
  /** SHA-256 of weights.safetensors, lowercase hex. */
  readonly sha256: string;
  /**
   * A value derived from this version (a compiled graph), created once and shared by every lease
   * of the version; `release` runs when the version itself is released (no lease left).
   */
  cached<T>(key: string, create: () => Promise<T>, release?: (value: T) => Promise<void>): Promise<T>;
  release(): void;
}

/** What GetModelInfo tells before (ready = false) and after a version has loaded. */
export interface ModelDescription {
  clientPath: string;
  version: string;
  manifest: ModelManifest;
  ready: boolean;
  /** "" while not loaded. */
  sha256: string;
}

interface Loaded {
  manifest: ModelManifest;
  parameters: ReadonlyMap<string, HostTensor>;
  sha256: string;
}

/** One version directory: loading, loaded or failed; released once retired and unused. */
class VersionEntry {
  state: "loading" | "ready" | "failed" = "loading";
  loaded?: Loaded;
  error?: Error;
  refs = 0;
  retired = false;
  /** Asked for by its version path: kept loaded after a newer version arrives (until LRU eviction). */
  pinnedUse = false;
  released = false;
  lastUsed = Date.now();
  readonly ready: Promise<void>;
  private readonly cache = new Map<string, { value: Promise<unknown>; release?: (v: unknown) => Promise<void> }>();

  readonly dir: string;
  readonly clientPath: string;
  readonly version: string;
  readonly modelDir: string;
  /** Manifest mtime at load: a rewritten manifest means a new model in the same place. */
  readonly stamp: number;

  constructor(
    target: Target,
    readonly manifest: ModelManifest,
    load: () => Promise<Loaded>,
  ) {
    this.dir = target.dir;
    this.clientPath = target.clientPath;
    this.version = target.version;
    this.modelDir = target.modelDir;
    this.stamp = target.stamp;
    this.ready = load().then(
      (loaded) => {
        this.loaded = loaded;
        this.state = "ready";
      },
      (error: Error) => {
        this.error = error;
        this.state = "failed";
      },
    );
  }

  lease(): ModelLease {
    const loaded = this.loaded!;
    this.refs++;
    this.lastUsed = Date.now();
    let done = false;
    return {
      dir: this.dir,
      clientPath: this.clientPath,
      version: this.version,
      manifest: loaded.manifest,
      config: loaded.manifest.config,
      parameters: loaded.parameters,
      sha256: loaded.sha256,
      cached: <T>(key: string, create: () => Promise<T>, release?: (value: T) => Promise<void>) =>
        this.cached(key, create, release),
      release: () => {
        if (done) return;
        done = true;
        this.refs--;
        this.lastUsed = Date.now();
        void this.releaseIfIdle();
      },
    };
  }

  private cached<T>(key: string, create: () => Promise<T>, release?: (value: T) => Promise<void>): Promise<T> {
    if (this.released) throw new Error(`${this.clientPath} was released; acquire it again`);
    const hit = this.cache.get(key);
    if (hit) return hit.value as Promise<T>;
    const value = create();
    this.cache.set(key, { value, release: release as ((v: unknown) => Promise<void>) | undefined });
    value.catch(() => this.cache.delete(key));
    return value;
  }

  /** Releases every cached value (compiled graphs) once the version is retired and no call holds it. */
  async releaseIfIdle(): Promise<void> {
    if (!this.retired || this.refs > 0 || this.released) return;
    this.released = true;
    const entries = [...this.cache.values()];
    this.cache.clear();
    for (const { value, release } of entries) {
      if (!release) continue;
      await value.then(release, () => undefined).catch(() => undefined);
    }
    this.loaded = undefined;
  }
}

/** Where a client path leads now. */
interface Target {
  dir: string;
  version: string;
  /** The model directory holding the version (the version dir itself for an unversioned model). */
  modelDir: string;
  /** Named by its version path (not "the newest of"). */
  pinned: boolean;
  clientPath: string;
  stamp: number;
}

/** Versions found in one model directory at one moment. */
interface Scan {
  /** mtime of the model directory when scanned. */
  mtime: number;
  /** Version directories without a manifest yet (being published): rescan until complete. */
  pending: boolean;
  /** Complete versions, newest first: [absolute dir, version name]. */
  versions: Array<[string, string]>;
}

/**
 * The models a service serves, loaded on first use and kept while used (Triton's model
 * repository, reduced to what the method needs). A model directory `models/<name>` is a model
 * itself (manifest.json) or holds version subdirectories v1, v2, ...; a path naming the
 * directory means its newest version, a path naming a version pins it. New versions are found by
 * a cheap rescan (one stat of the directory, a readdir only when it changed) on every acquire and
 * every `pollMs` for the default model. While a newer version loads, the previous one keeps
 * serving unpinned requests; a version pinned by path, or a model with nothing loaded yet, answers
 * UNAVAILABLE until it is ready. Superseded versions are released (their compiled graphs too)
 * when the last call using them ends.
 */
export class ModelRegistry {
  private readonly entries = new Map<string, VersionEntry>();
  private readonly scans = new Map<string, Scan>();
  private readonly creating = new Map<string, Promise<VersionEntry>>();
  private readonly loader: ModelLoader;
  private timer?: NodeJS.Timeout;
  private readyNow = false;
  private servableNow = false;
  /** The default model's directory holds no model (or is invalid) at the last look. */
  private defaultAbsent = false;
  private closed = false;

  constructor(private readonly options: ModelRegistryOptions) {
    this.loader = options.loader ?? ((dir, kind) => loadModel(dir, kind));
  }

  /** Starts loading the default model (if present) and polling its directory for new versions. */
  start(): void {
    void this.refreshDefault();
    const pollMs = this.options.pollMs ?? 2000;
    if (pollMs > 0) {
      this.timer = setInterval(() => void this.refreshDefault(), pollMs);
      this.timer.unref();
    }
  }

  /** Whether the default model has a loaded version. */
  isReady(): boolean {
    return this.readyNow;
  }

  /**
   * Whether the service can take calls now: the default model has loaded, or there is none to
   * wait for (calls naming a model are served; an empty `model` answers NOT_FOUND). Health follows
   * this, so a fresh deployment without models is still reachable by callers that name theirs.
   */
  isServable(): boolean {
    return this.servableNow;
  }

  /** Resolves when the default model is ready (or rejects with why it cannot be). */
  async whenReady(): Promise<void> {
    const target = await this.locate("model", "");
    const entry = await this.entryFor(target, "model");
    await entry.ready;
    this.noteReady();
    if (entry.state === "failed") throw this.failure(entry);
  }

  /**
   * A lease on the model named by the client path `model` ("" = the default), from request field
   * `field`. INVALID_ARGUMENT for a path outside the data directory or a model of another kind,
   * NOT_FOUND when nothing is there, UNAVAILABLE while it loads (`wait` waits instead),
   * FAILED_PRECONDITION when it failed to load.
   */
  async acquire(field: string, model: string, options: { wait?: boolean } = {}): Promise<ModelLease> {
    if (this.closed) throw new UnavailableError("the model registry is shutting down");
    const target = await this.locate(field, model);
    const entry = await this.entryFor(target, field);
    if (entry.state === "loading" && options.wait) await entry.ready;
    if (entry.state === "ready") {
      this.supersede(entry);
      this.noteReady();
      return entry.lease();
    }
    if (entry.state === "failed") throw this.failure(entry);
    // Still loading: an unpinned request is served by the newest version already loaded.
    if (!target.pinned) {
      const previous = this.newestReady(target.modelDir);
      if (previous) return previous.lease();
    }
    throw new UnavailableError(`model "${target.clientPath}" is still loading; retry shortly`);
  }

  /** The manifest and readiness of a model without leasing it (GetModelInfo). */
  async describe(field: string, model: string): Promise<ModelDescription> {
    const target = await this.locate(field, model);
    const entry = await this.entryFor(target, field);
    if (entry.state === "failed") throw this.failure(entry);
    if (entry.state !== "ready" && !target.pinned) {
      const previous = this.newestReady(target.modelDir);
      if (previous) return this.description(previous);
    }
    return this.description(entry);
  }

  /** Stops polling and releases every version as soon as no call holds it. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const entry of this.entries.values()) {
      entry.retired = true;
      await entry.ready;
      await entry.releaseIfIdle();
    }
  }

  private description(entry: VersionEntry): ModelDescription {
    return {
      clientPath: entry.clientPath,
      version: entry.version,
      manifest: entry.manifest,
      ready: entry.state === "ready",
      sha256: entry.loaded?.sha256 ?? "",
    };
  }

  private failure(entry: VersionEntry): FailedPreconditionError {
    return new FailedPreconditionError(`model "${entry.clientPath}" failed to load: ${entry.error?.message}`);
  }

  private async refreshDefault(): Promise<void> {
    try {
      const target = await this.locate("model", "");
      this.defaultAbsent = false;
      this.noteReady();
      const entry = await this.entryFor(target, "model");
      await entry.ready;
      if (entry.state === "ready") this.supersede(entry);
      else
        this.options.logger?.warn("default model failed to load", {
          model: entry.clientPath,
          error: entry.error?.message,
        });
    } catch {
      // Absent or invalid default: not ready, nothing to wait for; the next poll looks again.
      this.defaultAbsent = true;
    }
    this.noteReady();
  }

  private noteReady(): void {
    const ready = this.newestReady(this.defaultDir()) !== undefined;
    const servable = ready || this.defaultAbsent;
    if (servable !== this.servableNow) {
      this.servableNow = servable;
      this.options.onServableChange?.(servable);
    }
    if (ready === this.readyNow) return;
    this.readyNow = ready;
    this.options.onReadyChange?.(ready);
  }

  private defaultDirCache?: string;

  private defaultDir(): string {
    this.defaultDirCache ??= this.options.paths.resolve("model", this.options.defaultModel);
    return this.defaultDirCache;
  }

  /** Which version directory a client path means now. */
  private async locate(field: string, model: string): Promise<Target> {
    const clientPath = model === "" ? this.options.defaultModel : model;
    const abs = this.options.paths.resolve(field, clientPath);
    const info = await stat(abs).catch(() => undefined);
    if (!info?.isDirectory()) throw new NotFoundError(`model "${clientPath}" (${field})`);
    const own = await stat(join(abs, MANIFEST)).catch(() => undefined);
    if (own?.isFile()) {
      // A version directory (vN inside a model directory) pins; a plain model directory does not.
      const name = basename(abs);
      const parentIsModel = VERSION.test(name);
      return {
        dir: abs,
        version: parentIsModel ? name : "",
        modelDir: parentIsModel ? join(abs, "..") : abs,
        pinned: parentIsModel,
        clientPath: this.options.paths.toClient(abs),
        stamp: own.mtimeMs,
      };
    }
    const scan = await this.scan(abs, info.mtimeMs);
    const newest = scan.versions[0];
    if (!newest)
      throw new NotFoundError(`model "${clientPath}" (${field}): no manifest.json and no version v1, v2, ...`);
    const manifestInfo = await stat(join(newest[0], MANIFEST));
    return {
      dir: newest[0],
      version: newest[1],
      modelDir: abs,
      pinned: false,
      clientPath: this.options.paths.toClient(newest[0]),
      stamp: manifestInfo.mtimeMs,
    };
  }

  private async scan(modelDir: string, mtime: number): Promise<Scan> {
    const previous = this.scans.get(modelDir);
    if (previous && previous.mtime === mtime && !previous.pending) return previous;
    const names = (await readdir(modelDir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && VERSION.test(d.name))
      .map((d) => d.name)
      .sort((a, b) => Number(b.slice(1)) - Number(a.slice(1)));
    const versions: Array<[string, string]> = [];
    let pending = false;
    for (const name of names) {
      const dir = join(modelDir, name);
      const complete = await stat(join(dir, MANIFEST)).then(
        (s) => s.isFile(),
        () => false,
      );
      if (complete) versions.push([dir, name]);
      else pending = true;
    }
    const scan = { mtime, pending, versions };
    this.scans.set(modelDir, scan);
    return scan;
  }

  /**
   * The entry of a located version, created (and its load started) on first sight. The manifest
   * is read with the request so a model of the wrong kind is INVALID_ARGUMENT at once, not a
   * failed background load. Concurrent first requests share one entry.
   */
  private async entryFor(target: Target, field: string): Promise<VersionEntry> {
    const existing = this.entries.get(target.dir);
    if (existing && existing.stamp === target.stamp && !existing.released) {
      existing.lastUsed = Date.now();
      // A superseded version still held by a call comes back into use rather than reloading.
      if (target.pinned) existing.retired = false;
      if (target.pinned) existing.pinnedUse = true;
      this.checkKind(existing.manifest, target.clientPath, field);
      return existing;
    }
    const key = `${target.dir}\0${target.stamp}`;
    let creating = this.creating.get(key);
    if (!creating) {
      creating = this.create(target, existing).finally(() => this.creating.delete(key));
      this.creating.set(key, creating);
    }
    const entry = await creating;
    if (target.pinned) entry.pinnedUse = true;
    this.checkKind(entry.manifest, target.clientPath, field);
    return entry;
  }

  private async create(target: Target, existing: VersionEntry | undefined): Promise<VersionEntry> {
    const manifest = await readManifest(target.dir, target.clientPath);
    const started = performance.now();
    const entry = new VersionEntry(target, manifest, async () => {
      if (manifest.kind !== this.options.kind) throw new Error(`holds a ${manifest.kind} model`);
      const [loaded, sha256] = await Promise.all([
        this.loader(target.dir, this.options.kind),
        sha256File(join(target.dir, WEIGHTS)),
      ]);
      const seconds = (performance.now() - started) / 1000;
      this.options.logger?.info("model loaded", { model: target.clientPath, seconds, sha256 });
      this.options.onLoad?.(seconds, { clientPath: target.clientPath, version: target.version });
      return { ...loaded, sha256 };
    });
    if (existing) {
      // The manifest was rewritten in place: a different model; the old one goes when idle.
      existing.retired = true;
      void existing.releaseIfIdle();
    }
    this.entries.set(target.dir, entry);
    void entry.ready.then(() => {
      if (entry.state === "ready") this.supersede(entry);
      this.noteReady();
    });
    this.evict();
    return entry;
  }

  private checkKind(manifest: ModelManifest, clientPath: string, field: string): void {
    if (manifest.kind !== this.options.kind)
      throw new InvalidArgumentError(
        field,
        `"${clientPath}" holds a ${manifest.kind} model; this service serves a ${this.options.kind}`,
      );
  }

  /** Entries of `modelDir`, newest version first. */
  private versionsOf(modelDir: string): VersionEntry[] {
    return [...this.entries.values()]
      .filter((e) => e.modelDir === modelDir && !e.retired)
      .sort((a, b) => versionNumber(b.version) - versionNumber(a.version));
  }

  private newestReady(modelDir: string): VersionEntry | undefined {
    return this.versionsOf(modelDir).find((e) => e.state === "ready");
  }

  /** Once `entry` is ready, older versions of its model that nobody pinned are retired. */
  private supersede(entry: VersionEntry): void {
    const newest = this.newestReady(entry.modelDir);
    if (newest !== entry) return;
    for (const older of this.versionsOf(entry.modelDir)) {
      if (older === entry || versionNumber(older.version) > versionNumber(entry.version)) continue;
      if (older.state === "ready" && !older.pinnedUse) {
        older.retired = true;
        void older.releaseIfIdle();
      }
    }
  }

  private evict(): void {
    const max = this.options.maxLoaded ?? 4;
    const live = [...this.entries.values()].filter((e) => !e.retired).sort((a, b) => a.lastUsed - b.lastUsed);
    const defaultNewest = this.newestReady(this.defaultDir());
    for (const e of live) {
      if (live.filter((x) => !x.retired).length <= max) break;
      if (e === defaultNewest || e.state === "loading") continue;
      e.retired = true;
      void e.releaseIfIdle();
    }
    for (const [dir, e] of this.entries) if (e.released) this.entries.delete(dir);
  }
}

function versionNumber(version: string): number {
  const m = VERSION.exec(version);
  return m ? Number(m[1]) : 0;
}

async function readManifest(dir: string, clientPath: string): Promise<ModelManifest> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), "utf8")) as ModelManifest;
    if (manifest.format !== "exits-model") throw new Error('format is not "exits-model"');
    return manifest;
  } catch (error) {
    throw new FailedPreconditionError(
      `model "${clientPath}": manifest.json is unreadable (${(error as Error).message})`,
    );
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
