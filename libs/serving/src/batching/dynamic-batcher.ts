import { DeadlineExceededError, DomainError, ResourceExhaustedError } from "@exits/platform";

export interface DynamicBatcherOptions<C, I, O> {
  /** Most items per run. */
  maxBatchSize: number;
  /**
   * How long the first queued item waits for others before a partial batch runs (Triton's
   * max_queue_delay). 0 = no batching across calls: a run holds items of one call only.
   */
  maxQueueDelayMs: number;
  /** Most items queued (not yet running); a call that would exceed it is RESOURCE_EXHAUSTED. */
  maxQueueSize: number;
  /** Runs one batch; `context` is the one given with the items (all items of a batch share a key). */
  run: (context: C, inputs: I[]) => Promise<O[]>;
  /** Observability hooks (metrics). */
  onBatch?: (size: number) => void;
  onQueueDepth?: (depth: number) => void;
  onQueueWait?: (seconds: number) => void;
  onDrop?: (reason: "deadline" | "cancelled", items: number) => void;
}

export interface EnqueueOptions {
  /** Absolute deadline (ms since the epoch, as Date.now()); items still queued after it are dropped. */
  deadline?: number;
  /** The call's cancellation; items still queued when it aborts are dropped. */
  signal?: AbortSignal;
}

/** The call of a dropped item was cancelled by its client. */
export class CancelledError extends DomainError {
  constructor(message: string) {
    super("cancelled", message);
  }
}

interface Call {
  deadline?: number;
  signal?: AbortSignal;
  /** Items of this call still queued. */
  queued: number;
  done: boolean;
  dispose: () => void;
}

interface Item<C, I, O> {
  key: string;
  context: C;
  input: I;
  call: Call;
  enqueuedAt: number;
  resolve: (o: O) => void;
  reject: (e: unknown) => void;
}

/**
 * Triton-style dynamic batcher: items from concurrent calls queue together and run in batches of
 * up to `maxBatchSize`, as soon as a full batch is queued or the oldest item has waited
 * `maxQueueDelayMs`. Only items with the same key (the model version) share a run. One run at a
 * time: the graph already uses every intra-op thread it is given. Before each run, items of
 * calls whose deadline passed or that were cancelled are dropped (never computed).
 */
export class DynamicBatcher<C, I, O> {
  private readonly queue: Item<C, I, O>[] = [];
  private running = false;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly options: DynamicBatcherOptions<C, I, O>) {
    if (!(options.maxBatchSize >= 1)) throw new RangeError("maxBatchSize must be >= 1");
  }

  /** Items queued, not yet running. */
  get depth(): number {
    return this.queue.length;
  }

  /**
   * Queues every input of one call (all or none: a call that does not fit is RESOURCE_EXHAUSTED
   * whole) and returns one promise per input, settled when its batch has run.
   */
  enqueue(key: string, context: C, inputs: readonly I[], options: EnqueueOptions = {}): Promise<O>[] {
    if (this.closed) throw new ResourceExhaustedError("the batcher is shutting down");
    if (this.queue.length + inputs.length > this.options.maxQueueSize)
      throw new ResourceExhaustedError(
        `the inference queue is full (${this.queue.length} of ${this.options.maxQueueSize} objects queued, this call adds ${inputs.length}); retry later`,
      );
    const call: Call = { ...options, queued: inputs.length, done: false, dispose: () => undefined };
    const now = performance.now();
    const promises = inputs.map(
      (input) =>
        new Promise<O>((resolve, reject) => {
          this.queue.push({ key, context, input, call, enqueuedAt: now, resolve, reject });
        }),
    );
    if (options.signal) {
      // gRPC cancels a call when its deadline passes: count that as a deadline, not a cancel.
      const onAbort = () =>
        this.dropCall(call, call.deadline !== undefined && call.deadline <= Date.now() + 1 ? "deadline" : "cancelled");
      options.signal.addEventListener("abort", onAbort, { once: true });
      call.dispose = () => options.signal!.removeEventListener("abort", onAbort);
      if (options.signal.aborted) onAbort();
    }
    // A caller awaiting its results in order (a stream) must not see later items' rejections as
    // unhandled while it waits for earlier ones.
    for (const p of promises) p.catch(() => undefined);
    this.options.onQueueDepth?.(this.queue.length);
    this.schedule();
    return promises;
  }

  /** Rejects everything still queued; runs in progress finish. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const item of this.queue.splice(0)) item.reject(new ResourceExhaustedError("the batcher is shutting down"));
    this.options.onQueueDepth?.(0);
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const head = this.queue[0]!;
    const sameKey = this.countRunnable(head);
    const waited = performance.now() - head.enqueuedAt;
    if (sameKey >= this.options.maxBatchSize || waited >= this.options.maxQueueDelayMs) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      void this.runNext();
      return;
    }
    if (!this.timer)
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.schedule();
        },
        Math.max(0, this.options.maxQueueDelayMs - waited),
      );
  }

  /** Items that could join the head's batch. */
  private countRunnable(head: Item<C, I, O>): number {
    let n = 0;
    for (const item of this.queue) if (this.joins(head, item)) n++;
    return n;
  }

  private joins(head: Item<C, I, O>, item: Item<C, I, O>): boolean {
    // Delay 0 means no batching across calls: only the head's call.
    return item.key === head.key && (this.options.maxQueueDelayMs > 0 || item.call === head.call);
  }

  private async runNext(): Promise<void> {
    this.running = true;
    try {
      this.dropExpired();
      const head = this.queue[0];
      if (!head) return;
      const batch: Item<C, I, O>[] = [];
      for (let i = 0; i < this.queue.length && batch.length < this.options.maxBatchSize; ) {
        const item = this.queue[i]!;
        if (this.joins(head, item)) {
          batch.push(item);
          this.queue.splice(i, 1);
          item.call.queued--;
        } else i++;
      }
      this.options.onQueueDepth?.(this.queue.length);
      const started = performance.now();
      for (const item of batch) this.options.onQueueWait?.((started - item.enqueuedAt) / 1000);
      for (const item of batch) if (item.call.queued === 0) this.finishCall(item.call);
      this.options.onBatch?.(batch.length);
      try {
        const outputs = await this.options.run(
          head.context,
          batch.map((b) => b.input),
        );
        if (outputs.length !== batch.length)
          throw new Error(`batch runner returned ${outputs.length} results for ${batch.length} inputs`);
        for (const [k, item] of batch.entries()) item.resolve(outputs[k]!);
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  private dropExpired(): void {
    const now = Date.now();
    const calls = new Set<Call>();
    for (const item of this.queue) {
      const c = item.call;
      if (c.signal?.aborted || (c.deadline !== undefined && c.deadline <= now)) calls.add(c);
    }
    for (const c of calls) this.dropCall(c, c.deadline !== undefined && c.deadline <= now ? "deadline" : "cancelled");
  }

  /** Removes every queued item of `call`, rejecting each. */
  private dropCall(call: Call, reason: "deadline" | "cancelled"): void {
    if (call.done) return;
    const error =
      reason === "deadline"
        ? new DeadlineExceededError("the call's deadline passed while its objects were queued; they were not computed")
        : new CancelledError("the call was cancelled while its objects were queued; they were not computed");
    let dropped = 0;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const item = this.queue[i]!;
      if (item.call !== call) continue;
      this.queue.splice(i, 1);
      item.reject(error);
      dropped++;
    }
    call.queued = 0;
    this.finishCall(call);
    if (dropped > 0) {
      this.options.onDrop?.(reason, dropped);
      this.options.onQueueDepth?.(this.queue.length);
    }
  }

  private finishCall(call: Call): void {
    if (call.done) return;
    call.done = true;
    call.dispose();
  }
}
