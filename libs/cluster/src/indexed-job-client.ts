import { setTimeout as sleep } from "node:timers/promises";
import { FailedPreconditionError, NotFoundError, UnavailableError } from "@exits/platform";
import { BatchV1Api, type KubeConfig, type V1Job, type V1Status, Watch } from "@kubernetes/client-node";
import { AsyncQueue } from "./async-queue.js";
import {
  buildIndexedJob,
  exportJobSelector,
  type IndexedJobSpec,
  indexedJobName,
  isOurJob,
} from "./indexed-job-spec.js";
import { isAlreadyExists, isGone, isNotFound, kubeStatusOf } from "./kube-errors.js";

/** One step of {@link IndexedJobClient.watch}. */
export type JobWatchEvent =
  | { readonly type: "ADDED" | "MODIFIED" | "DELETED"; readonly job: V1Job }
  /** The server's progress marker: the watch will resume from here. */
  | { readonly type: "BOOKMARK"; readonly resourceVersion: string }
  /** A full list (at the start, and after 410 Gone): the current Jobs, replacing what came before. */
  | { readonly type: "SYNC"; readonly jobs: readonly V1Job[]; readonly resourceVersion: string };

export interface WatchOptions {
  readonly labelSelector: string;
  /** Start after this version (no initial SYNC); unset = list first. */
  readonly resourceVersion?: string;
  readonly signal?: AbortSignal;
}

export interface IndexedJobClientOptions {
  /** Pause before reconnecting a watch that dropped. Default 1000 ms. */
  readonly reconnectDelayMs?: number;
  /** Consecutive reconnects without an event before the watch gives up. Default 10. */
  readonly maxReconnects?: number;
}

type RawWatchEvent = { type: string; object: unknown };

/**
 * Indexed Jobs in one namespace through @kubernetes/client-node 1.4.0 (the last line that runs on
 * Node 20: 2.x needs undici 8, Node >= 22). Uses exactly: POST/GET/DELETE
 * /apis/batch/v1/namespaces/{ns}/jobs[/{name}], list with labelSelector, and watch with
 * resourceVersion + allowWatchBookmarks (the RBAC role needs create, get, list, watch, delete on
 * jobs.batch, nothing else).
 */
export class IndexedJobClient {
  private readonly api: BatchV1Api;
  private readonly watcher: Watch;
  private readonly reconnectDelayMs: number;
  private readonly maxReconnects: number;

  constructor(
    config: KubeConfig,
    readonly namespace: string,
    options: IndexedJobClientOptions = {},
  ) {
    this.api = config.makeApiClient(BatchV1Api);
    this.watcher = new Watch(config);
    this.reconnectDelayMs = options.reconnectDelayMs ?? 1000;
    this.maxReconnects = options.maxReconnects ?? 10;
  }

  /**
   * Creates the export's Job, or adopts the one already there (409 AlreadyExists) when its labels
   * say it is this export's and it has the same number of shards: the exporter restarting finds
   * its running Job instead of failing or starting over.
   */
  async createOrAdopt(spec: IndexedJobSpec): Promise<{ job: V1Job; adopted: boolean }> {
    const body = buildIndexedJob(spec, this.namespace);
    const name = body.metadata!.name!;
    try {
      return { job: await this.api.createNamespacedJob({ namespace: this.namespace, body }), adopted: false };
    } catch (e) {
      if (!isAlreadyExists(e)) throw this.failure(e, `creating Job ${name}`);
    }
    const existing = await this.get(name);
    if (!existing) throw new UnavailableError(`Job ${this.namespace}/${name} was deleted while being adopted; retry`);
    if (!isOurJob(existing, spec.exportJobId))
      throw new FailedPreconditionError(
        `Job ${this.namespace}/${name} already exists and its labels do not mark it as export ${spec.exportJobId}'s`,
      );
    if (existing.spec?.completions !== spec.shards)
      throw new FailedPreconditionError(
        `Job ${this.namespace}/${name} runs ${existing.spec?.completions} shards, this export wants ${spec.shards}; delete it first`,
      );
    return { job: existing, adopted: true };
  }

  /** The Job, or undefined when there is none (404). */
  async get(name: string): Promise<V1Job | undefined> {
    try {
      return await this.api.readNamespacedJob({ name, namespace: this.namespace });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw this.failure(e, `reading Job ${name}`);
    }
  }

  /** The export's Job by name, NOT_FOUND when absent. */
  async getForExport(exportJobId: string): Promise<V1Job> {
    const job = await this.get(indexedJobName(exportJobId));
    if (!job) throw new NotFoundError(`Kubernetes Job for export ${exportJobId}`);
    return job;
  }

  /** Jobs matching a label selector, with the list's resourceVersion (where a watch starts). */
  async list(labelSelector: string): Promise<{ jobs: V1Job[]; resourceVersion: string }> {
    try {
      const list = await this.api.listNamespacedJob({ namespace: this.namespace, labelSelector });
      return { jobs: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
    } catch (e) {
      throw this.failure(e, `listing Jobs (${labelSelector})`);
    }
  }

  /** Jobs of one export (normally one). */
  listForExport(exportJobId: string) {
    return this.list(exportJobSelector(exportJobId));
  }

  /**
   * Deletes a Job with its pods; Background returns at once, Foreground keeps the Job (with a
   * deletionTimestamp) until its pods are gone. False when there was no such Job.
   */
  async delete(name: string, propagationPolicy: "Background" | "Foreground" = "Background"): Promise<boolean> {
    try {
      await this.api.deleteNamespacedJob({
        name,
        namespace: this.namespace,
        propagationPolicy,
        body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw this.failure(e, `deleting Job ${name}`);
    }
  }

  /**
   * Jobs matching `labelSelector`, as a list (SYNC) and then their changes, until the consumer
   * stops or the signal aborts. Asks for bookmarks and remembers the newest resourceVersion seen
   * (objects and bookmarks): a stream that ends or drops is reopened from there, so no change is
   * lost or seen twice; when the server no longer has that version (410 Gone, as an ERROR event
   * or an HTTP answer) the Jobs are listed again (SYNC) and the watch goes on from the list.
   */
  async *watch(options: WatchOptions): AsyncGenerator<JobWatchEvent> {
    const { labelSelector, signal } = options;
    let resourceVersion = options.resourceVersion;
    if (resourceVersion === undefined) {
      const listed = await this.list(labelSelector);
      resourceVersion = listed.resourceVersion;
      yield { type: "SYNC", jobs: listed.jobs, resourceVersion };
    }
    let failedReconnects = 0;
    while (!signal?.aborted) {
      const events = this.openWatch(labelSelector, resourceVersion, signal);
      let gone = false;
      let sawEvent = false;
      let error: unknown;
      try {
        for await (const event of events) {
          sawEvent = true;
          if (event.type === "ERROR") {
            const status = event.object as V1Status;
            if (status.code === 410) {
              gone = true;
              break;
            }
            throw new UnavailableError(`watching Jobs: ${status.code} ${status.reason}: ${status.message}`);
          }
          const object = event.object as V1Job;
          resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
          if (event.type === "BOOKMARK") yield { type: "BOOKMARK", resourceVersion: resourceVersion! };
          else if (event.type === "ADDED" || event.type === "MODIFIED" || event.type === "DELETED")
            yield { type: event.type, job: object };
        }
      } catch (e) {
        if (e instanceof UnavailableError) throw e;
        if (isGone(e)) gone = true;
        else error = e;
      } finally {
        await events.return();
      }
      if (signal?.aborted) return;
      if (gone) {
        const listed = await this.list(labelSelector);
        resourceVersion = listed.resourceVersion;
        failedReconnects = 0;
        yield { type: "SYNC", jobs: listed.jobs, resourceVersion };
        continue;
      }
      // A stream that made progress and then ended or dropped is reopened at once; one that
      // failed before any event counts towards giving up; an idle one that ended waits a little.
      if (sawEvent) {
        failedReconnects = 0;
        continue;
      }
      if (error !== undefined && ++failedReconnects > this.maxReconnects)
        throw this.failure(error, `watching Jobs (${labelSelector})`);
      await sleep(this.reconnectDelayMs, undefined, { signal }).catch(() => undefined);
    }
  }

  /** One watch connection as a queue; it ends when the stream ends, with the error if it failed. */
  private openWatch(labelSelector: string, resourceVersion: string | undefined, signal?: AbortSignal) {
    let controller: AbortController | undefined;
    let closed = false;
    const close = () => {
      closed = true;
      controller?.abort();
    };
    const queue = new AsyncQueue<RawWatchEvent>(close);
    const onAbort = () => {
      close();
      queue.end();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = (err: unknown) => {
      signal?.removeEventListener("abort", onAbort);
      // A stream ended by us (abort) is not an error; one the server cut is (reconnect counts it).
      queue.end(err && !closed && !isAbort(err) ? err : undefined);
    };
    this.watcher
      .watch(
        `/apis/batch/v1/namespaces/${encodeURIComponent(this.namespace)}/jobs`,
        { labelSelector, resourceVersion, allowWatchBookmarks: true },
        (type, object) => queue.push({ type, object }),
        done,
      )
      .then(
        (c) => {
          controller = c;
          if (closed) c.abort();
        },
        (e) => queue.end(e),
      );
    return queue;
  }

  private failure(e: unknown, what: string): Error {
    if (e instanceof UnavailableError || e instanceof FailedPreconditionError) return e;
    const status = kubeStatusOf(e);
    if (status?.code === 401 || status?.code === 403)
      return new FailedPreconditionError(
        `${what}: the Kubernetes API refused (${status.code} ${status.reason ?? ""}); check the exporter's ServiceAccount and Role`,
      );
    const detail = status ? `${status.code} ${status.reason ?? ""} ${status.message ?? ""}`.trim() : String(e);
    return new UnavailableError(`${what}: ${detail}`);
  }
}

function isAbort(e: unknown): boolean {
  return (e as { name?: string } | null)?.name === "AbortError";
}
