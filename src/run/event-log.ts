/**
 * events.jsonl: one line per sample, appended with a synchronous write so that a line the run
 * reported is on its way to disk even if the process is killed right after.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import type { SampleEvent } from './formats.js';

export class EventLog {
  private fd: number | undefined;

  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }

  write(event: SampleEvent): void {
    if (this.fd === undefined) return;
    writeSync(this.fd, `${JSON.stringify(event)}\n`);
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
