import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, type V1Job } from "@kubernetes/client-node";

/** One request the fake API server answered, for assertions on what the client sent. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body?: unknown;
}

interface StoredEvent {
  readonly resourceVersion: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: V1Job;
}

interface OpenWatch {
  readonly res: ServerResponse;
  readonly selector: (job: V1Job) => boolean;
  readonly bookmarks: boolean;
}

const JOBS = /^\/apis\/batch\/v1\/namespaces\/([a-z0-9-]+)\/jobs(?:\/([a-z0-9.-]+))?$/;

/**
 * A loopback HTTP server that answers the batch/v1 Job endpoints as the Kubernetes API does:
 * Status objects (kind Status, apiVersion v1) for errors, a single increasing resourceVersion,
 * JobList with metadata.resourceVersion, watches as chunked JSON lines with BOOKMARK events and a
 * 410 ERROR event for versions older than the last compaction, DELETE with propagationPolicy from
 * the query or a DeleteOptions body (Foreground keeps the Job with a deletionTimestamp until its
 * "pods" are gone). Tests drive Job status with `updateStatus` and break watches with
 * `cutWatches`. Anything else is a 404, recorded so a test can see the client asked for it.
 */
export class FakeKubeApi {
  readonly token = `token-${randomUUID()}`;
  readonly requests: RecordedRequest[] = [];
  private readonly jobs = new Map<string, V1Job>();
  private readonly events: StoredEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private version = 100;
  private compactedBelow = 0;
  private server: Server | undefined;
  private port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((e) => this.status(res, 500, "InternalError", String(e)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const w of this.watches) w.res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  /** A KubeConfig built in code: this server over plain HTTP, bearer-token auth. */
  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: "exporter", token: this.token }],
      contexts: [{ name: "fake", cluster: "fake", user: "exporter", namespace: "exits" }],
      currentContext: "fake",
    });
    return config;
  }

  get resourceVersion(): string {
    return String(this.version);
  }

  job(name: string): V1Job | undefined {
    return this.jobs.get(name);
  }

  /** Puts a Job in place as if someone else had created it. */
  seed(job: V1Job): V1Job {
    return this.store("ADDED", structuredClone(job));
  }

  /**
   * Changes a Job's status (as the Job controller would) and tells the open watches, or with
   * `deliver: false` only records it (a change a stream is about to lose).
   */
  updateStatus(
    name: string,
    change: (status: NonNullable<V1Job["status"]>) => void,
    options: { deliver?: boolean } = {},
  ): V1Job {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`no job ${name}`);
    const next = structuredClone(job);
    next.status ??= {};
    change(next.status);
    return this.store("MODIFIED", next, options.deliver ?? true);
  }

  /** Sends a BOOKMARK with the current resourceVersion to every watch that asked for them. */
  bookmark(): void {
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      this.write(w, {
        type: "BOOKMARK",
        object: { kind: "Job", apiVersion: "batch/v1", metadata: { resourceVersion: this.resourceVersion } },
      });
    }
  }

  /** Forgets the event history: watches from an older resourceVersion now get 410 Gone. */
  compact(): void {
    this.compactedBelow = this.version;
    this.events.length = 0;
  }

  /** Drops every open watch, leaving half of `partial` written first when given (a torn line). */
  cutWatches(partial?: unknown): void {
    for (const w of this.watches) {
      if (partial !== undefined) {
        const line = JSON.stringify(partial);
        w.res.write(line.slice(0, Math.floor(line.length / 2)));
      }
      w.res.socket?.destroy();
      this.watches.delete(w);
    }
  }

  /** Watches opened so far (ERROR-only answers not counted). */
  watchesOpened = 0;

  /** Resolves once `count` watches have been opened in all (a client (re)connecting). */
  async waitForWatchesOpened(count: number, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.watchesOpened < count) {
      if (Date.now() > until) throw new Error(`only ${this.watchesOpened} of ${count} watches opened`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  watchRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.query["watch"] === "true");
  }

  private store(type: StoredEvent["type"], job: V1Job, deliver = true): V1Job {
    this.version += 1;
    job.metadata = { ...job.metadata, resourceVersion: this.resourceVersion };
    if (type === "DELETED") this.jobs.delete(job.metadata.name!);
    else this.jobs.set(job.metadata.name!, job);
    const event: StoredEvent = { resourceVersion: this.version, type, object: structuredClone(job) };
    this.events.push(event);
    if (deliver) for (const w of this.watches) if (w.selector(job)) this.write(w, { type, object: event.object });
    return structuredClone(job);
  }

  private write(w: OpenWatch, event: unknown): void {
    if (!w.res.destroyed) w.res.write(`${JSON.stringify(event)}\n`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<undefined> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const query = Object.fromEntries(url.searchParams);
    const text = await readBody(req);
    const body = text ? JSON.parse(text) : undefined;
    this.requests.push({ method: req.method ?? "", path: url.pathname, query, ...(body ? { body } : {}) });
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return this.status(res, 401, "Unauthorized", "Unauthorized");
    const m = JOBS.exec(url.pathname);
    if (!m) return this.status(res, 404, "NotFound", "the server could not find the requested resource");
    const [, namespace, name] = m as unknown as [string, string, string | undefined];
    if (req.method === "POST" && !name) return this.create(res, namespace, body);
    if (req.method === "GET" && name) return this.read(res, name);
    if (req.method === "GET" && query["watch"] === "true") return this.watch(req, res, query);
    if (req.method === "GET") return this.list(res, query);
    if (req.method === "DELETE" && name) return this.remove(res, name, query, body);
    return this.status(res, 405, "MethodNotAllowed", `${req.method} is not supported on ${url.pathname}`);
  }

  private create(res: ServerResponse, namespace: string, body: V1Job | undefined): undefined {
    if (body?.apiVersion !== "batch/v1" || body.kind !== "Job" || !body.metadata?.name)
      return this.status(res, 400, "BadRequest", "expected a batch/v1 Job with metadata.name");
    const name = body.metadata.name;
    if (this.jobs.has(name))
      return this.status(res, 409, "AlreadyExists", `jobs.batch "${name}" already exists`, { name });
    const job = structuredClone(body);
    job.metadata = { ...job.metadata, namespace, uid: randomUUID(), creationTimestamp: new Date() };
    job.status = {};
    this.json(res, 201, this.store("ADDED", job));
  }

  private read(res: ServerResponse, name: string): undefined {
    const job = this.jobs.get(name);
    if (!job) return this.status(res, 404, "NotFound", `jobs.batch "${name}" not found`, { name });
    this.json(res, 200, job);
  }

  private list(res: ServerResponse, query: Record<string, string>): undefined {
    const selector = labelSelector(query["labelSelector"]);
    if (!selector) return this.status(res, 400, "BadRequest", `unable to parse requirement: ${query["labelSelector"]}`);
    this.json(res, 200, {
      kind: "JobList",
      apiVersion: "batch/v1",
      metadata: { resourceVersion: this.resourceVersion },
      items: [...this.jobs.values()].filter(selector),
    });
  }

  private watch(req: IncomingMessage, res: ServerResponse, query: Record<string, string>): undefined {
    const selector = labelSelector(query["labelSelector"]);
    if (!selector) return this.status(res, 400, "BadRequest", `unable to parse requirement: ${query["labelSelector"]}`);
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    const w: OpenWatch = { res, selector, bookmarks: query["allowWatchBookmarks"] === "true" };
    const from = query["resourceVersion"];
    if (from === undefined || from === "" || from === "0") {
      // "Any version": the current objects as ADDED, then changes.
      for (const job of this.jobs.values()) if (selector(job)) this.write(w, { type: "ADDED", object: job });
    } else if (!/^\d+$/.test(from) || Number(from) < this.compactedBelow) {
      this.write(w, {
        type: "ERROR",
        object: {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: `too old resource version: ${from} (${this.compactedBelow})`,
          reason: "Expired",
          code: 410,
        },
      });
      res.end();
      return;
    } else {
      for (const e of this.events)
        if (e.resourceVersion > Number(from) && selector(e.object)) this.write(w, { type: e.type, object: e.object });
    }
    this.watches.add(w);
    this.watchesOpened += 1;
    req.on("close", () => this.watches.delete(w));
  }

  private remove(res: ServerResponse, name: string, query: Record<string, string>, body: unknown): undefined {
    const job = this.jobs.get(name);
    if (!job) return this.status(res, 404, "NotFound", `jobs.batch "${name}" not found`, { name });
    const policy =
      query["propagationPolicy"] ?? (body as { propagationPolicy?: string } | undefined)?.propagationPolicy;
    if (policy !== undefined && !["Background", "Foreground", "Orphan"].includes(policy))
      return this.status(res, 400, "BadRequest", `unsupported propagationPolicy "${policy}"`);
    if (policy === "Foreground") {
      const marked = structuredClone(job);
      marked.metadata = { ...marked.metadata, deletionTimestamp: new Date(), finalizers: ["foregroundDeletion"] };
      const kept = this.store("MODIFIED", marked);
      // The garbage collector removes the Job once its pods are gone.
      setTimeout(() => this.jobs.has(name) && this.store("DELETED", structuredClone(this.jobs.get(name)!)), 20);
      return this.json(res, 200, kept);
    }
    const gone = this.store("DELETED", structuredClone(job));
    this.json(res, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: { name, group: "batch", kind: "jobs", uid: gone.metadata?.uid },
    });
  }

  private status(
    res: ServerResponse,
    code: number,
    reason: string,
    message: string,
    details?: { name: string },
  ): undefined {
    this.json(res, code, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details ? { details: { ...details, group: "batch", kind: "jobs" } } : {}),
      code,
    });
  }

  private json(res: ServerResponse, code: number, value: unknown): undefined {
    if (res.headersSent) {
      res.end();
      return;
    }
    res.writeHead(code, { "Content-Type": "application/json" });
    res.end(JSON.stringify(value));
  }
}

/** Equality-based selectors ("a=b,c==d,e!=f"); undefined for anything else. */
function labelSelector(text: string | undefined): ((job: V1Job) => boolean) | undefined {
  if (text === undefined || text === "") return () => true;
  const terms: { key: string; value: string; equal: boolean }[] = [];
  for (const part of text.split(",")) {
    const m = /^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$/.exec(part);
    if (!m) return undefined;
    terms.push({ key: m[1]!, value: m[3]!, equal: m[2] !== "!=" });
  }
  return (job) => terms.every((t) => (job.metadata?.labels?.[t.key] === t.value) === t.equal);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
