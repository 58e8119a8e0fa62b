/**
 * A bounded queue between samplers and evaluators. `put` waits while the queue is full, so memory
 * stays flat however far the LLM runs ahead; `close` wakes every waiter.
 */
export class Channel<T> {
  private readonly items: T[] = [];
  private readonly takers: Array<(item: T | undefined) => void> = [];
  private readonly putters: Array<() => void> = [];
  private closed = false;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Expected \`capacity\` to be a positive integer, got \`${capacity}\``);
    }
  }

  get size(): number {
    return this.items.length;
  }

  /** Resolves true once the item is queued, false when the channel closed first (the item is dropped). */
  async put(item: T): Promise<boolean> {
    while (!this.closed && this.items.length >= this.capacity && this.takers.length === 0) {
      await new Promise<void>((resolve) => this.putters.push(resolve));
    }
    if (this.closed) return false;
    const taker = this.takers.shift();
    if (taker) taker(item);
    else this.items.push(item);
    return true;
  }

  /** The next item, or undefined once the channel is closed and drained. */
  async take(): Promise<T | undefined> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.putters.shift()?.();
      return item;
    }
    if (this.closed) return undefined;
    return new Promise<T | undefined>((resolve) => this.takers.push(resolve));
  }

  /** No more puts; takers drain what is queued, then get undefined. */
  close(): void {
    this.closed = true;
    for (const putter of this.putters.splice(0)) putter();
    for (const taker of this.takers.splice(0)) taker(undefined);
  }

  /** Items still queued and never taken, for a stop that will not evaluate them. */
  drain(): T[] {
    return this.items.splice(0);
  }
}
