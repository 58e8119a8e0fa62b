/**
 * Hostile candidates against one sandbox (hostile-<kind>.test.ts: one file per sandbox, so the
 * three run in parallel). Each case in hostile-cases.ts runs once per sandbox, and after it: its follow-up jobs, a known-good job (the sandbox still serves correctly),
 * and a search of the host's /proc for any process the case left behind. One sandbox per describe
 * block serves every case, so state leaking from one candidate to the next is tested too.
 *
 * The Docker suite needs an engine and the test image, the bwrap suite a working bubblewrap
 * (tests/helpers/system.ts decides: skipped outside CI, failed under CI=true).
 */
import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { BwrapSandbox } from '../../../src/sandbox/bwrap.js';
import { createSandbox } from '../../../src/sandbox/index.js';
import type { Outcome, Sandbox, SandboxJob } from '../../../src/sandbox/sandbox.js';
import { describeWithSystem, SANDBOX_TEST_IMAGE, type SystemPart } from '../../helpers/system.js';
import {
  type CannotHold,
  GOOD_PROGRAM,
  goodScore,
  HOSTILE_CASES,
  type HostileCase,
  type SandboxKind,
} from '../hostile-cases.js';
import { HARNESS_PID } from '../programs.js';
import {
  accepts,
  descendantsOf,
  expectationFor,
  findTagged,
  formatExpectation,
  formatOutcome,
  goodInput,
  HostileEnvironment,
  killTagged,
  waitUntilDead,
  waitUntilGone,
} from './hostile-host.js';

const LABEL = 'funsearch.run';
const MEMORY_MB = 256;
const config = parseConfig({
  docker_image: SANDBOX_TEST_IMAGE,
  num_evaluators: 2,
  timeout: 2,
  sandbox: { memory_mb: MEMORY_MB },
});

const docker = new Docker();

const needs: Record<SandboxKind, readonly SystemPart[]> = {
  docker: ['docker', 'sandbox-image'],
  process: [],
  bwrap: ['bwrap'],
};

/** Every hostile case against the `kind` sandbox, one sandbox serving them all in turn. */
export async function hostileSuite(kind: SandboxKind): Promise<void> {
  const suiteName = `hostile candidates against the ${kind} sandbox`;

  await describeWithSystem(needs[kind], suiteName, () => {
    const environment = new HostileEnvironment();
    const tags: string[] = [];
    let sandbox: Sandbox | undefined;
    /** Which user candidates run as (a probe job asks), for the skips that depend on it. */
    let candidateUid = -1;
    const sessionId = `hostile-${randomUUID()}`;

    beforeAll(async () => {
      await environment.setUp(); // tokens in process.env and .env in cwd BEFORE the sandbox exists
      // One worker: the job after a case runs where the case ran, so anything it left is in reach.
      // Nothing preloaded: the few cases that use numpy import it themselves, as a candidate of a
      // spec without numpy would.
      sandbox = createSandbox({ kind, config, sessionId, poolSize: 1, preload: [] });
      await sandbox.start();
      candidateUid = await probe(sandbox, 'os.getuid()');
    });

    afterAll(async () => {
      await sandbox?.close();
      await killTagged(tags);
      await environment.tearDown();
    });

    for (const hostile of HOSTILE_CASES) {
      const always = alwaysCannotHold(hostile.cannotHold?.[kind]);
      const name = always
        ? `${hostile.id}: ${hostile.title} — skipped: ${always}`
        : `${hostile.id}: ${hostile.title}`;
      it.skipIf(always !== null)(name, async (context) => {
        const memoryCapped = sandbox instanceof BwrapSandbox && sandbox.memoryCapped;
        const conditional = conditionalCannotHold(hostile.cannotHold?.[kind], candidateUid, memoryCapped);
        context.skip(conditional !== null, conditional ?? undefined);
        const ctx = environment.context(kind, MEMORY_MB);
        tags.push(ctx.tag);
        const connectionsBefore = environment.connectionsAccepted;
        await runCase(sandbox!, kind, hostile, ctx);
        if (hostile.listenerUntouched) {
          expect(
            environment.connectionsAccepted - connectionsBefore,
            `${hostile.id}: connections the host's loopback listener accepted during the case`,
          ).toBe(0);
        }
      });
    }

    it('close() releases every container and process of the suite', async () => {
      // Process sandbox: the host pids of the harness serving now (a case may have killed an earlier
      // one) and of its fork server.
      const harnessPid = kind === 'process' ? await probe(sandbox!, HARNESS_PID) : -1;
      const serverPid = kind === 'process' ? await probe(sandbox!, 'os.getppid()') : -1;
      // bwrap: every process under this test's children (bubblewrap, the harness, its candidates).
      const sandboxPids = kind === 'bwrap' ? descendantsOf(process.pid) : [];
      if (kind === 'bwrap') expect(sandboxPids.length, 'bubblewrap and harness processes').toBeGreaterThan(1);
      await sandbox!.close();
      await sandbox!.close(); // idempotent
      const alive = findTagged(tags);
      expect(alive, 'candidate processes alive after close()').toEqual([]);
      if (kind === 'process') {
        expect(await waitUntilDead(harnessPid), `harness pid ${harnessPid} after close()`).toBe(true);
        expect(await waitUntilDead(serverPid), `fork server pid ${serverPid} after close()`).toBe(true);
      }
      for (const pid of sandboxPids) {
        expect(await waitUntilDead(pid), `sandbox process ${pid} after close()`).toBe(true);
      }
      if (kind === 'docker') {
        // Straight from the engine, not through the sandbox's own bookkeeping.
        const left = await docker.listContainers({
          all: true,
          filters: { label: [`${LABEL}=${sessionId}`] },
        });
        expect(
          left.map((c) => `${c.Id.slice(0, 12)} ${c.State}`),
          'containers of this sandbox left after close()',
        ).toEqual([]);
      }
    });
  });
}

async function runCase(
  sandbox: Sandbox,
  kind: SandboxKind,
  hostile: HostileCase,
  ctx: ReturnType<HostileEnvironment['context']>,
): Promise<void> {
  // Each scan of the host's /proc reads every thread's name: scanned once per case when all is well.
  let scanned = false;
  try {
    const outcome = await sandbox.run(job(hostile.program(ctx), 3, hostile.timeoutSeconds));
    const expected = expectationFor(hostile, kind);
    expect
      .soft(
        accepts(outcome, expected),
        `${hostile.id}: expected ${formatExpectation(expected)}, got ${formatOutcome(outcome)}`,
      )
      .toBe(true);

    const leftover = await waitUntilGone(ctx.tag);
    expect
      .soft(
        leftover.map((p) => `pid ${p.pid} (state ${p.state})`),
        `${hostile.id}: candidate processes still alive after the outcome`,
      )
      .toEqual([]);
    if (leftover.length > 0) await killTagged(ctx.tag); // so one finding does not spoil the cases after it
    scanned = !hostile.followUps?.length;

    for (const followUp of hostile.followUps ?? []) {
      const next = await sandbox.run(job(followUp.program(ctx, outcome), 3, 20));
      expect
        .soft(
          accepts(next, followUp.expect),
          `${hostile.id}, ${followUp.title}: expected ${formatExpectation(followUp.expect)}, got ${formatOutcome(next)}`,
        )
        .toBe(true);
    }
    if (kind === 'process' && hostile.hostCheck) {
      expect.soft(await hostile.hostCheck(ctx, outcome), `${hostile.id}: host-side check`).toEqual([]);
    }

    const k = goodInput();
    const good = await runJob(sandbox, GOOD_PROGRAM, k, 20);
    expect(
      good.kind === 'ok' && good.score === goodScore(k),
      `${hostile.id}: the known-good job after it must give ok ${goodScore(k)}, got ${formatOutcome(good)}`,
    ).toBe(true);
  } finally {
    // After an exception or follow-up jobs, whatever they left goes before the next case runs.
    if (!scanned) await killTagged(ctx.tag);
  }
}

function job(program: string, input: number, timeoutSeconds: number): SandboxJob {
  return { program, functionToRun: 'evaluate', testInput: String(input), timeoutSeconds };
}

function runJob(sandbox: Sandbox, program: string, input: number, timeoutSeconds: number): Promise<Outcome> {
  return sandbox.run(job(program, input, timeoutSeconds));
}

async function probe(sandbox: Sandbox, expression: string): Promise<number> {
  const outcome = await runJob(sandbox, `import os\n\n\ndef evaluate(n):\n    return ${expression}\n`, 3, 20);
  if (outcome.kind !== 'ok') throw new Error(`the probe job ${expression} failed: ${formatOutcome(outcome)}`);
  return outcome.score;
}

function alwaysCannotHold(reason: CannotHold | undefined): string | null {
  return typeof reason === 'string' ? reason : null;
}

function conditionalCannotHold(
  reason: CannotHold | undefined,
  candidateUid: number,
  memoryCapped: boolean,
): string | null {
  if (reason === undefined || typeof reason === 'string') return null;
  if (reason.when === 'without-memory-cgroup') {
    return memoryCapped ? null : `cannot hold it here: ${reason.reason} (no memory cgroup can be made)`;
  }
  const applies = reason.when === 'as-root' ? candidateUid === 0 : candidateUid === process.getuid?.();
  return applies
    ? `process sandbox cannot hold it here: ${reason.reason} (candidate uid ${candidateUid})`
    : null;
}
