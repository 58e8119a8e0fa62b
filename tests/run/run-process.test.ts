/**
 * Whole runs through the CLI, on the process sandbox with the mock model (fast, no Docker): flags
 * take effect, budgets stop the run, results survive kill -9 and resume, faults surface.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, ONE_SLOT, runCli } from '../helpers/cli.js';
import { filesIn, readEvents, readJson, runDirOf, runDirSoFar } from '../helpers/run-dir.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'funsearch-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const BASE = [
  '-s',
  'specs/cap_set.py',
  '-t',
  'test-inputs/cap_set.txt',
  '--llm',
  'mock',
  '--sandbox',
  'process',
  '--timeout',
  '1',
  '--log-level',
  'warn',
];

describe('a mock run on the process sandbox', () => {
  it('honours every flag it is given, writes the reports, and resumes with a raised budget', async () => {
    const reports = join(dir, 'flags');
    const result = await runCli([
      ...BASE,
      '--report-dir',
      reports,
      '--num-islands',
      '3',
      '--num_samplers',
      '2',
      '--samples-per-prompt',
      '3',
      '--total-llm-samples',
      '2',
      '--functions-per-prompt',
      '3',
      '--mock-latency',
      '10',
      '--seed',
      '5',
      '--score-reduction',
      'sum',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const runDir = await runDirOf(reports);
    const summary = await readJson(join(runDir, 'summary.json'));
    // The original's meaning: prompts per sampler, each asking for samples_per_prompt samples.
    expect(summary.samples).toBe(2 * 2 * 3);
    expect(summary.counts.prompts).toBe(4);
    expect(summary.islands).toHaveLength(3);
    expect(summary.stopReason).toBe('total-llm-samples');
    expect(summary.status).toBe('finished');
    // sum over inputs 3 and 4 of the trivial priority: 8 + 16.
    expect(summary.initialScore).toBe(24);
    expect(summary.config).toMatchObject({
      num_samplers: 2,
      samples_per_prompt: 3,
      total_llm_samples: 2,
      seed: 5,
      timeout: 1,
      programs_database: { num_islands: 3, functions_per_prompt: 3, score_reduction: 'sum' },
      sandbox: { kind: 'process' },
      llm: { provider: 'mock', mock_latency_ms: 10 },
    });
    const events = await readEvents(runDir);
    expect(events[0]).toMatchObject({ reason: 'initial program', score: 24 });
    expect(events.filter((e) => e.island !== null)).toHaveLength(12);
    const files = await readdir(runDir);
    for (const file of [
      'report.txt',
      'report.html',
      'checkpoint.json',
      'run.log',
      'spec.py',
      'test-inputs.txt',
      'config.json',
    ]) {
      expect(files).toContain(file);
    }
    expect(files.filter((f) => /^island_\d+_best_program\.py$/.test(f))).toHaveLength(3);
    // The whole runnable program, not just the function.
    const best = await readFile(join(runDir, 'island_0_best_program.py'), 'utf8');
    expect(best).toContain('def evaluate(n: int) -> int:');
    expect(best).toContain('def priority(');
    // The original printed the whole program three times per candidate; we print none of it.
    expect(result.stderr).not.toContain('def solve');

    // Finished, it resumes with a raised budget, keeping its islands, counters and events.
    expect((await readJson(join(runDir, 'checkpoint.json'))).finished).toBe(true);
    const resumed = await runCli(['--resume', runDir, '--total-llm-samples', '3', '--log-level', 'warn']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const after = await readJson(join(runDir, 'summary.json'));
    expect(after.samples).toBe(2 * 3 * 3);
    expect(after.islands).toHaveLength(3);
    expect(after.initialScore).toBe(summary.initialScore);
    expect(after.bestScore).toBeGreaterThanOrEqual(summary.bestScore);
    expect(after.config).toMatchObject({ total_llm_samples: 3, seed: 5, num_samplers: 2 });
    expect(after.timings.elapsedSeconds).toBeGreaterThan(summary.timings.elapsedSeconds);
    const resumedEvents = await readEvents(runDir);
    // One initial program (not evaluated again on resume) and every sample of both sessions.
    expect(resumedEvents.filter((e) => e.reason === 'initial program')).toHaveLength(1);
    expect(resumedEvents.filter((e) => e.island !== null)).toHaveLength(18);
  });

  it('stops at the cost budget, priced with --price-input/--price-output', async () => {
    const reports = join(dir, 'cost');
    const result = await runCli([
      ...BASE,
      '--report-dir',
      reports,
      ...ONE_SLOT,
      '--max-cost',
      '0.5',
      '--price-input',
      '1000',
      '--price-output',
      '1000',
      '--num-samplers',
      '1',
      '--samples-per-prompt',
      '2',
      '--total-llm-samples',
      '500',
      '--mock-latency',
      '5',
      '--seed',
      '2',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const summary = await readJson(join(await runDirOf(reports), 'summary.json'));
    expect(summary.stopReason).toBe('max-cost');
    // USD 1000 per million tokens: the cost is a thousandth of the tokens.
    expect(summary.costUsd).toBeCloseTo(summary.tokens.total / 1000, 6);
    expect(summary.costUsd).toBeGreaterThanOrEqual(0.5);
    expect(summary.samples).toBeLessThan(1000);
  });

  it("shows the outcome and stderr when the spec's own function fails, and exits 1", async () => {
    // It fails only when the sandbox imported the spec's modules before the program ran (preload).
    const preloaded = 'import sys\nPRELOADED = "fractions" in sys.modules\nimport fractions\n';
    const spec = `${preloaded}${await readFile('specs/cap_set.py', 'utf8')}`.replace(
      '  return 0.0',
      '  return 1 / 0 if PRELOADED else 0.0',
    );
    await writeFile(join(dir, 'broken.py'), spec);
    const result = await runCli([
      '-s',
      join(dir, 'broken.py'),
      ...BASE.slice(2),
      ...ONE_SLOT,
      '--report-dir',
      join(dir, 'broken-reports'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/priority fails: crash on input 3/);
    expect(result.stderr).toContain('ZeroDivisionError');
  });

  it('loses at most channel depth plus capacity samples on Ctrl-C with the default config, and counts them', async () => {
    const reports = join(dir, 'ctrl-c');
    let child: ChildProcess | undefined;
    const done = runCli([...BASE, '--report-dir', reports, '--mock-latency', '0'], {
      onSpawn: (c) => (child = c),
    });
    for (;;) {
      await sleep(100);
      const runDir = await runDirSoFar(reports);
      if (runDir && (await filesIn(runDir)).includes('summary.json')) break;
    }
    // Samplers at zero latency fill the channel at once: by now samples wait in it and in the slots.
    await sleep(500);
    child!.kill('SIGINT');
    const result = await done;
    expect(result.code, result.stderr).toBe(130);
    const summary = await readJson(join(await runDirOf(reports), 'summary.json'));
    expect(summary.status).toBe('interrupted');
    const { channelDepth, capacity, maxDrawnNotEvaluated } = summary.concurrency;
    // Defaults: 15 samplers x 4 samples per prompt.
    expect(channelDepth).toBe(60);
    expect(maxDrawnNotEvaluated).toBeLessThanOrEqual(channelDepth + capacity);
    expect(summary.counts.notEvaluated).toBeLessThanOrEqual(channelDepth + capacity);
    expect(summary.counts.samplesOk).toBe(summary.counts.evaluations + summary.counts.notEvaluated);
  });

  it('leaves a whole checkpoint whenever it is killed -9, and resumes from it', async () => {
    const reports = join(dir, 'kill9');
    let runDir = '';
    for (const delay of [0, 200]) {
      const args = runDir
        ? ['--resume', runDir, '--log-level', 'warn']
        : [
            ...BASE,
            '--report-dir',
            reports,
            ...ONE_SLOT,
            '--checkpoint-every',
            '1',
            '--num-samplers',
            '2',
            '--samples-per-prompt',
            '2',
            '--total-llm-samples',
            '1000',
            '--mock-latency',
            '5',
            '--seed',
            '9',
          ];
      let child: ChildProcess | undefined;
      const done = runCli(args, { onSpawn: (c) => (child = c) });
      // The first kill comes as soon as the run directory exists, maybe before any checkpoint;
      // the later ones once a checkpoint exists, at staggered moments.
      let exited = false;
      void done.then(() => {
        exited = true;
      });
      for (;;) {
        await sleep(20);
        // A run that ended by itself before the kill is a failure, not something to wait for.
        if (exited) throw new Error(`the run exited before it could be killed: ${(await done).stderr}`);
        const soFar = await runDirSoFar(reports);
        if (!soFar) continue;
        runDir = soFar;
        if (delay === 0 || (await filesIn(runDir)).includes('checkpoint.json')) break;
      }
      await sleep(delay);
      child!.kill('SIGKILL');
      const result = await done;
      expect(result.signal).toBe('SIGKILL');
      if (delay > 0) {
        const checkpoint = await readJson(join(runDir, 'checkpoint.json'));
        expect(checkpoint.format).toBe('funsearch-checkpoint');
        expect(checkpoint.database.islands).toHaveLength(10);
      }
    }
    const finish = await runCli(['--resume', runDir, '--total-llm-samples', '1', '--log-level', 'warn']);
    // Writers killed mid-write leave temporary files; the resume removes them.
    expect((await readdir(runDir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    // Already past the raised budget: it stops at once, cleanly, with the restored state.
    expect(finish.code, finish.stderr).toBe(0);
    const summary = await readJson(join(runDir, 'summary.json'));
    expect(summary.status).toBe('finished');
    expect(summary.samples).toBeGreaterThan(0);
  }, 240_000);
});

describe('LLM faults', () => {
  let server: Server;
  let status = 500;
  let requests = 0;
  let baseUrl = '';
  beforeAll(async () => {
    server = createServer((request, response) => {
      requests++;
      request.resume();
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: `status ${status}`, type: 'test' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    baseUrl = `http://127.0.0.1:${address.port}/v1`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const openai = () => [
    '-s',
    'specs/cap_set.py',
    '-t',
    'test-inputs/cap_set.txt',
    '--llm',
    'openai',
    '--sandbox',
    'process',
    '--log-level',
    'error',
  ];

  it('leaves no run directory and prints one line when the model has no credentials', async () => {
    const reports = join(dir, 'no-token');
    const result = await runCli(
      [
        '-s',
        'specs/cap_set.py',
        '-t',
        'test-inputs/cap_set.txt',
        '--llm',
        'replicate',
        '--sandbox',
        'process',
        '--report-dir',
        reports,
      ],
      { env: cleanEnv() },
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/REPLICATE_API_TOKEN/);
    await expect(readdir(reports)).rejects.toThrow(/ENOENT/);
  });

  it('stops at once with exit 2 naming the variable when the key is rejected', async () => {
    status = 401;
    requests = 0;
    const result = await runCli([...openai(), '--report-dir', join(dir, 'rejected')], {
      env: cleanEnv({ OPENAI_API_KEY: 'sk-wrong', OPENAI_BASE_URL: baseUrl }),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/OPENAI_API_KEY/);
    expect(requests).toBe(1);
  });
});
