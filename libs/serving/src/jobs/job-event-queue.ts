import { ResourceExhaustedError } from "@exits/platform";

/**
 * One watcher's inbox of live events. Bounded: a watcher that falls this far behind (a stalled
 * client) fails with RESOURCE_EXHAUSTED rather than growing the server's memory; it can reconnect
 * with after_sequence and lose nothing, since events are replayed from disk.
 */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private overflowed = false;

  constructor(private readonly capacity = 10_000) {}

  push(item: T): void {
    if (this.ended) return;
    if (this.items.length >= this.capacity) {
      this.overflowed = true;
      this.ended = true;
    } else this.items.push(item);
    this.wake();
  }

  /** No more items: `next` answers undefined once the queue is drained. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The next item; undefined when ended (or when `signal` fires). */
  async next(signal?: AbortSignal): Promise<T | undefined> {
    for (;;) {
      if (this.overflowed)
        throw new ResourceExhaustedError(
          `the watcher fell more than ${this.capacity} events behind; reconnect with after_sequence`,
        );
      const item = this.items.shift();
      if (item !== undefined) return item;
      if (this.ended || signal?.aborted) return undefined;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.waiter = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        signal?.addEventListener("abort", onAbort, { once: true });
      });
      this.waiter = undefined;
    }
  }

  private wake(): void {
    this.waiter?.();
  }
}
