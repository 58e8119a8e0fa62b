/** The run's status line for a queue sandbox: the workers, or that it waits for the first. */
import { describe, expect, it } from 'vitest';
import { workersLine } from '../../src/run/progress.js';
import type { SandboxWorkerStatus } from '../../src/sandbox/sandbox.js';

const worker = (id: string, over: Partial<SandboxWorkerStatus> = {}): SandboxWorkerStatus => ({
  id,
  host: 'h',
  sandbox: 'docker',
  concurrency: 2,
  busy: 1,
  live: true,
  evaluations: 10,
  perMinute: 12,
  share: 0.5,
  ...over,
});

describe('workers status line', () => {
  it('says the run waits while no worker is live', () => {
    const line = workersLine({
      kind: 'queue',
      capacity: 0,
      inFlight: 0,
      workers: [worker('a', { live: false })],
    });
    expect(line).toMatch(
      /^workers: none yet, waiting for the first \(start one: funsearch worker --redis URL\)$/,
    );
  });

  it('lists live and departed workers by evaluations, with throughput and share', () => {
    const line = workersLine({
      kind: 'queue',
      capacity: 2,
      inFlight: 1,
      workers: [
        worker('small', { evaluations: 5, perMinute: 6, share: 0.25 }),
        worker('big', { evaluations: 15, perMinute: 18.5, share: 0.75, live: false }),
      ],
    });
    expect(line).toBe('workers: 1 live, 1/2 slots busy; big (gone) 18.5/min 75%, small 6.0/min 25%');
  });
});
