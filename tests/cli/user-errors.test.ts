import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli } from '../helpers/cli.js';

let dir: string;
const SPEC = 'specs/cap_set.py';
const INPUTS = 'test-inputs/cap_set.txt';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'funsearch-cli-'));
  await writeFile(join(dir, 'no-markers.py'), 'def priority(el, n):\n  return 0.0\n');
  await writeFile(join(dir, 'empty.txt'), '\n\n');
  await writeFile(join(dir, 'bad-literal.txt'), '3\nn + 1\n');
  await writeFile(join(dir, 'bad.json'), '{"num_islands": ');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A user mistake: exit 2, one line on stderr that names the problem and the fix, no stack trace. */
async function expectUserError(args: string[], pattern: RegExp, env = cleanEnv()): Promise<void> {
  const result = await runCli(args, { env });
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(
    lines.some((line) => pattern.test(line)),
    result.stderr,
  ).toBe(true);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

// Concurrent: each test is a CLI process of its own, mostly waiting for it to start and answer.
describe.concurrent('user mistakes exit 2 with one line', () => {
  const run = ['--llm', 'mock', '--sandbox', 'process', '--report-dir', 'REPORTS'];
  const withReports = (args: string[]) => args.map((arg) => (arg === 'REPORTS' ? join(dir, 'reports') : arg));

  it('missing spec file', () =>
    expectUserError(
      withReports(['-s', 'nope.py', '-t', INPUTS, ...run]),
      /^funsearch: nope\.py: cannot read the specification file \(ENOENT\); check -s\/--specification-file$/,
    ));

  it('missing -s', () =>
    expectUserError(withReports(['-t', INPUTS, ...run]), /missing -s\/--specification-file/));

  it('spec without markers', () =>
    expectUserError(
      withReports(['-s', join(dir, 'no-markers.py'), '-t', INPUTS, ...run]),
      /no-markers\.py.*@funsearch\.(evolve|run)/,
    ));

  it('empty inputs file', () =>
    expectUserError(
      withReports(['-s', SPEC, '-t', join(dir, 'empty.txt'), ...run]),
      /empty\.txt: no test inputs/,
    ));

  it('an input line that is not a literal', () =>
    expectUserError(
      withReports(['-s', SPEC, '-t', join(dir, 'bad-literal.txt'), ...run]),
      /bad-literal\.txt:2: `n \+ 1` is not a Python literal/,
    ));

  it('unknown flag', () =>
    expectUserError(['-s', SPEC, '-t', INPUTS, '--num-islandz', '3'], /unknown option '--num-islandz'/));

  it('bad value', () =>
    expectUserError(
      withReports(['-s', SPEC, '-t', INPUTS, '--num-islands', 'three', ...run]),
      /--num-islands: expected an integer, got `three`/,
    ));

  it('out-of-range value', () =>
    expectUserError(
      withReports(['-s', SPEC, '-t', INPUTS, '--num_islands', '0', ...run]),
      /programs_database\.num_islands: /,
    ));

  it('bad --model-mix entry', () =>
    expectUserError(
      withReports([
        '-s',
        SPEC,
        '-t',
        INPUTS,
        '--model-mix',
        'mock=2',
        '--model-mix',
        'claude:opus=1',
        ...run,
      ]),
      /^funsearch: --model-mix: unknown provider `claude` \(one of replicate, openai, gemini, starcoder, mock\) in `claude:opus=1`; expected PROVIDER\[:MODEL\]\[=WEIGHT\] \(e\.g\. openai:gpt-4o-mini=3\)$/,
    ));

  it('a missing token of any model of a mix stops before the run, naming the variable', () =>
    expectUserError(
      withReports([
        '-s',
        SPEC,
        '-t',
        INPUTS,
        '--model-mix',
        'mock=3',
        '--model-mix',
        'openai:gpt-4o-mini',
        ...run,
      ]),
      /^funsearch: OpenAI needs OPENAI_API_KEY: set it in the environment or \.env/,
    ));

  it('bad config file', () =>
    expectUserError(
      withReports(['-s', SPEC, '-t', INPUTS, '--config', join(dir, 'bad.json'), ...run]),
      /bad\.json: not valid JSON/,
    ));

  it('missing API token names the variable', () =>
    expectUserError(['-s', SPEC, '-t', INPUTS, '--report-dir', join(dir, 'reports')], /REPLICATE_API_TOKEN/));

  it('Docker not running says what to start', () =>
    expectUserError(
      ['evaluate', '-s', SPEC, '-t', INPUTS, '--docker-image', 'funsearch-absent:none'],
      /Docker|docker/,
      cleanEnv({ DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}` }),
    ));

  it('--sandbox bwrap without bubblewrap names the package instead of running with less isolation', async () => {
    // A PATH with python3 (the interpreter itself, not a shim needing a shell) and no bwrap.
    const bin = join(dir, 'bin-without-bwrap');
    await mkdir(bin);
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
    await symlink(python.trim(), join(bin, 'python3'));
    await expectUserError(
      withReports([
        '-s',
        SPEC,
        '-t',
        INPUTS,
        '--llm',
        'mock',
        '--sandbox',
        'bwrap',
        '--report-dir',
        'REPORTS',
      ]),
      /^funsearch: --sandbox bwrap: bubblewrap is not installed .*install the bubblewrap package/,
      cleanEnv({ PATH: bin }),
    );
  });
});

describe('help', () => {
  it('shows every default', async () => {
    const result = await runCli(['run', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--num-islands <n>');
    expect(result.stdout).toMatch(/islands kept as a diversity mechanism \(default: 10\)/);
    expect(result.stdout).toMatch(/--total-llm-samples <n>[\s\S]*\(default: 10\)/);
  });
});
