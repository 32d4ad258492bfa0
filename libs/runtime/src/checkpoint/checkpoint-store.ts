import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDirectory, type Logger, silentLogger, temporarySibling, writeFileAtomic } from "@exits/base";
import { readSafetensors, type TensorMap, writeSafetensors } from "../safetensors/safetensors-file.js";
import type { HostTensor } from "../tensor/host-tensor.js";
import { CheckpointError } from "./checkpoint-error.js";
import {
  type CheckpointManifest,
  checkpointFormat,
  checkpointFormatVersion,
  parseManifest,
  sha256File,
} from "./checkpoint-manifest.js";

/** What a training job needs to resume exactly where it stopped. */
export interface CheckpointData {
  /** Optimiser steps taken so far. */
  readonly step: number;
  readonly parameters: TensorMap;
  /** Optimiser moments etc., named as the training step's graph names them. */
  readonly optimizerState: TensorMap;
  /** The job's configuration (JSON), so a resumed job can check it runs the same experiment. */
  readonly config: unknown;
  /** Anything else small and JSON-serialisable: schedule position, RNG seeds, metrics. */
  readonly extra?: unknown;
}

/** A complete checkpoint read back by {@link CheckpointStore.loadLatest}. */
export interface LoadedCheckpoint {
  readonly step: number;
  /** The step's directory. */
  readonly path: string;
  readonly parameters: Map<string, HostTensor>;
  readonly optimizerState: Map<string, HostTensor>;
  readonly config: unknown;
  readonly extra: unknown;
  readonly manifest: CheckpointManifest;
}

/** Options of {@link CheckpointStore}. */
export interface CheckpointStoreOptions {
  /** Complete checkpoints to keep (the newest); older ones are deleted after each save. Default 3. */
  readonly keep?: number;
  readonly logger?: Logger;
  /** Check SHA-256 of every file on load (default true); otherwise sizes only. */
  readonly verifyHashes?: boolean;
  /** Recorded in each manifest. */
  readonly producer?: Readonly<Record<string, string>>;
  /** Called after each file of a checkpoint reaches the disk (progress reporting). */
  readonly onFileWritten?: (file: string, step: number) => void | Promise<void>;
}

const files = {
  parameters: "parameters.safetensors",
  optimizerState: "optimizer.safetensors",
  state: "state.json",
  manifest: "manifest.json",
} as const;

const stepDir = (step: number) => `step-${String(step).padStart(9, "0")}`;
const stepPattern = /^step-(\d{9,})$/;

/**
 * Checkpoints in one directory, one sub-directory per step. A save writes every file into a
 * hidden temporary directory, fsyncs each file, writes the manifest last, fsyncs, then renames
 * the directory into place and fsyncs the parent: a crash at any point leaves either no new
 * checkpoint or a complete one, and the previous checkpoints untouched. Loading takes the newest
 * checkpoint whose manifest is present and whose files match it, skipping (and logging) others.
 */
export class CheckpointStore {
  private readonly keep: number;
  private readonly logger: Logger;

  constructor(
    readonly directory: string,
    private readonly options: CheckpointStoreOptions = {},
  ) {
    this.keep = options.keep ?? 3;
    if (!Number.isInteger(this.keep) || this.keep < 1)
      throw new Error(`keep must be a positive integer, got ${this.keep}`);
    this.logger = options.logger ?? silentLogger;
  }

  async save(data: CheckpointData): Promise<{ path: string; manifest: CheckpointManifest }> {
    if (!Number.isSafeInteger(data.step) || data.step < 0) throw new Error(`invalid step ${data.step}`);
    await mkdir(this.directory, { recursive: true });
    const final = join(this.directory, stepDir(data.step));
    const tmp = temporarySibling(final);
    await mkdir(tmp);
    try {
      const written: Record<string, { bytes: number; sha256: string }> = {};
      const record = async (name: string) => {
        const path = join(tmp, name);
        written[name] = { bytes: (await stat(path)).size, sha256: await sha256File(path) };
        await this.options.onFileWritten?.(name, data.step);
      };
      await writeSafetensors(join(tmp, files.parameters), data.parameters, { metadata: { step: String(data.step) } });
      await record(files.parameters);
      await writeSafetensors(join(tmp, files.optimizerState), data.optimizerState, {
        metadata: { step: String(data.step) },
      });
      await record(files.optimizerState);
      const state = JSON.stringify(
        { step: data.step, config: data.config ?? null, extra: data.extra ?? null },
        null,
        2,
      );
      await writeFileAtomic(join(tmp, files.state), state);
      await record(files.state);
      const manifest: CheckpointManifest = {
        format: checkpointFormat,
        version: checkpointFormatVersion,
        step: data.step,
        createdAt: new Date().toISOString(),
        files: written,
        producer: { node: process.version, ...this.options.producer },
      };
      await writeFileAtomic(join(tmp, files.manifest), JSON.stringify(manifest, null, 2));
      await this.options.onFileWritten?.(files.manifest, data.step);
      await fsyncDirectory(tmp);
      await this.replace(final, tmp);
      this.logger.info("checkpoint saved", { step: data.step, path: final });
      await this.prune();
      return { path: final, manifest };
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** Moves the finished temporary directory into place (re-saving a step replaces it). */
  private async replace(final: string, tmp: string): Promise<void> {
    const old = await stat(final).then(
      () => true,
      () => false,
    );
    if (!old) {
      await rename(tmp, final);
      await fsyncDirectory(this.directory);
      return;
    }
    // A directory cannot be renamed over a non-empty one: move the old one aside first. Should
    // we die in between, the step is simply missing and the previous step is the latest.
    const trash = temporarySibling(final, "replaced");
    await rename(final, trash);
    await rename(tmp, final);
    await fsyncDirectory(this.directory);
    await rm(trash, { recursive: true, force: true });
  }

  /** Steps of the directories that look like checkpoints, newest first (complete or not). */
  private async candidateSteps(): Promise<number[]> {
    const names = await readdir(this.directory).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return [] as string[];
      throw e;
    });
    return names
      .map((n) => stepPattern.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => b - a);
  }

  /** Verifies one checkpoint's files against its manifest; throws saying what is wrong. */
  async verify(step: number): Promise<CheckpointManifest> {
    const dir = join(this.directory, stepDir(step));
    const manifest = parseManifest(await readFile(join(dir, files.manifest), "utf8"));
    if (manifest.step !== step) throw new CheckpointError(`manifest says step ${manifest.step}`);
    for (const name of [files.parameters, files.optimizerState, files.state]) {
      const want = Object.hasOwn(manifest.files, name) ? manifest.files[name] : undefined;
      if (!want) throw new CheckpointError(`manifest lacks ${name}`);
      const size = (await stat(join(dir, name))).size;
      if (size !== want.bytes) throw new CheckpointError(`${name} has ${size} bytes, manifest says ${want.bytes}`);
      if (this.options.verifyHashes !== false && (await sha256File(join(dir, name))) !== want.sha256) {
        throw new CheckpointError(`${name} does not match its SHA-256 in the manifest`);
      }
    }
    return manifest;
  }

  /** Steps of complete, verified checkpoints, newest first. */
  async list(): Promise<number[]> {
    const ok: number[] = [];
    for (const step of await this.candidateSteps()) {
      if (
        await this.verify(step).then(
          () => true,
          () => false,
        )
      )
        ok.push(step);
    }
    return ok;
  }

  async load(step: number): Promise<LoadedCheckpoint> {
    const manifest = await this.verify(step);
    const dir = join(this.directory, stepDir(step));
    const state = JSON.parse(await readFile(join(dir, files.state), "utf8")) as { config: unknown; extra: unknown };
    return {
      step,
      path: dir,
      parameters: (await readSafetensors(join(dir, files.parameters))).tensors,
      optimizerState: (await readSafetensors(join(dir, files.optimizerState))).tensors,
      config: state.config,
      extra: state.extra,
      manifest,
    };
  }

  /** The newest complete checkpoint, or undefined when there is none; damaged ones are skipped with a warning. */
  async loadLatest(): Promise<LoadedCheckpoint | undefined> {
    for (const step of await this.candidateSteps()) {
      try {
        return await this.load(step);
      } catch (e) {
        this.logger.warn("skipping incomplete or damaged checkpoint", {
          step,
          path: join(this.directory, stepDir(step)),
          reason: (e as Error).message,
        });
      }
    }
    return undefined;
  }

  /** Deletes leftovers of interrupted saves and all but the newest `keep` complete checkpoints. */
  async prune(): Promise<void> {
    const names = await readdir(this.directory);
    for (const n of names) {
      // Only other processes' leftovers would be live; a store has one writer by contract.
      if (n.startsWith(".partial-step-") || n.startsWith(".replaced-step-")) {
        await rm(join(this.directory, n), { recursive: true, force: true });
      }
    }
    // Manifest presence is enough here (hashing every kept checkpoint after each save is not).
    const complete: number[] = [];
    for (const step of await this.candidateSteps()) {
      const manifest = join(this.directory, stepDir(step), files.manifest);
      if (
        await readFile(manifest, "utf8").then(
          (t) => parseManifest(t),
          () => undefined,
        )
      )
        complete.push(step);
    }
    for (const step of complete.slice(this.keep)) {
      await rm(join(this.directory, stepDir(step)), { recursive: true, force: true });
    }
  }
}
