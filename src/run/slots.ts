/**
 * Evaluation slots: at most `limit` evaluations at once, where the limit is the sandbox's
 * capacity and may change while the run goes (queue workers joining and leaving). A lowered
 * limit takes effect as running evaluations finish; nothing in flight is cancelled.
 */
export class Slots {
  private used = 0;
  private readonly waiters: Array<(granted: boolean) => void> = [];
  private closed = false;

  constructor(private currentLimit: number) {
    Slots.check(currentLimit);
  }

  get limit(): number {
    return this.currentLimit;
  }

  get inUse(): number {
    return this.used;
  }

  setLimit(limit: number): void {
    Slots.check(limit);
    this.currentLimit = limit;
    this.grant();
  }

  /** Waits for a free slot; false once closed. Each true must be matched by one `release`. */
  acquire(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.waiters.length === 0 && this.used < this.currentLimit) {
      this.used++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
    this.grant();
  }

  /** Wakes every waiter with false; slots in use stay until released. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter(false);
  }

  private grant(): void {
    while (!this.closed && this.waiters.length > 0 && this.used < this.currentLimit) {
      this.used++;
      this.waiters.shift()!(true);
    }
  }

  private static check(limit: number): void {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new RangeError(`Expected \`limit\` to be a non-negative integer, got \`${limit}\``);
    }
  }
}

/**
 * One evaluation's hold on a slot. `release` is idempotent, so an evaluation can give its slot
 * back early (a repeat waiting for a running copy of itself) and the dispatcher's final release
 * does nothing more; `retake` waits for a slot again when the evaluation needs the sandbox after all.
 */
export class SlotLease {
  private held = true;

  constructor(private readonly slots: Slots) {}

  get isHeld(): boolean {
    return this.held;
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.slots.release();
  }

  /** True once the slot is held again; false when the slots are closed (the run is stopping). */
  async retake(): Promise<boolean> {
    if (!this.held) this.held = await this.slots.acquire();
    return this.held;
  }
}
