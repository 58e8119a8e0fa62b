/**
 * The one queue between samplers and evaluators. A sampler reserves room before it asks the LLM,
 * so an answer always has a place to go: samples queued plus answers awaited never exceed the
 * capacity, and a paid-for answer never waits outside the queue.
 *
 * `close` ends new reservations; answers already reserved still arrive and are taken, and takers
 * get undefined only once nothing more can come. `drain` is the hard stop: it hands back what is
 * queued and refuses every later put.
 */
export class Channel<T> {
  private readonly items: T[] = [];
  private readonly takers: Array<(item: T | undefined) => void> = [];
  private readonly reservers: Array<{ count: number; wake: (granted: boolean) => void }> = [];
  private reserved = 0;
  private closed = false;
  private drained = false;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`Expected \`capacity\` to be a positive integer, got \`${capacity}\``);
    }
  }

  /** Items queued and not yet taken. */
  get size(): number {
    return this.items.length;
  }

  /** Places promised to answers that have not arrived yet. */
  get pending(): number {
    return this.reserved;
  }

  /**
   * Waits until `count` places are free (first come, first served) and holds them. Resolves false
   * once the channel is closed. Each place is then filled by `put` or given back by `release`.
   */
  reserve(count = 1): Promise<boolean> {
    if (!Number.isInteger(count) || count < 1 || count > this.capacity) {
      throw new RangeError(`Expected \`count\` to be an integer in 1..${this.capacity}, got \`${count}\``);
    }
    if (this.closed) return Promise.resolve(false);
    if (this.reservers.length === 0 && this.hasRoom(count)) {
      this.reserved += count;
      return Promise.resolve(true);
    }
    // Granted by wakeReserver, which takes the places at that moment: no one can slip in between.
    return new Promise<boolean>((wake) => this.reservers.push({ count, wake }));
  }

  /** Gives back places reserved for answers that never came (an LLM error, an abort). */
  release(count = 1): void {
    this.reserved = Math.max(0, this.reserved - count);
    this.wakeReserver();
    this.endIfDone();
  }

  /**
   * Fills a reserved place. Returns false only after `drain` (the hard stop): the item is then not
   * queued and the caller accounts for it.
   */
  put(item: T): boolean {
    this.reserved = Math.max(0, this.reserved - 1);
    if (this.drained) {
      this.endIfDone();
      return false;
    }
    const taker = this.takers.shift();
    if (taker) {
      taker(item);
      this.wakeReserver();
    } else this.items.push(item);
    return true;
  }

  /** The next item; undefined once the channel is closed, empty and owed nothing. */
  async take(): Promise<T | undefined> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.wakeReserver();
      return item;
    }
    if (this.isDone()) return undefined;
    return new Promise<T | undefined>((resolve) => this.takers.push(resolve));
  }

  /** No more reservations; what is queued or reserved still reaches the takers. */
  close(): void {
    this.closed = true;
    for (const reserver of this.reservers.splice(0)) reserver.wake(false);
    this.endIfDone();
  }

  /** Closes, refuses every later put, and hands back what was queued and never taken. */
  drain(): T[] {
    this.drained = true;
    this.close();
    const items = this.items.splice(0);
    for (const taker of this.takers.splice(0)) taker(undefined);
    return items;
  }

  private hasRoom(count: number): boolean {
    return this.items.length + this.reserved + count <= this.capacity;
  }

  private isDone(): boolean {
    return this.drained || (this.closed && this.items.length === 0 && this.reserved === 0);
  }

  private endIfDone(): void {
    if (this.isDone() && this.items.length === 0) for (const taker of this.takers.splice(0)) taker(undefined);
  }

  /** Grants waiting reservations in order while the first one fits whole. */
  private wakeReserver(): void {
    for (let first = this.reservers[0]; first && this.hasRoom(first.count); first = this.reservers[0]) {
      this.reservers.shift();
      this.reserved += first.count;
      first.wake(true);
    }
  }
}
