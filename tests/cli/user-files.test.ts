/** Every file a user names is read the same way: a missing or unreadable one is one line, exit 2. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/cli/load-config.js';
import { evaluateCommand } from '../../src/commands/evaluate.js';
import { loadEnv, loadSpec } from '../../src/commands/shared.js';
import { parseConfig } from '../../src/config.js';
import { UserError } from '../../src/errors.js';
import { loadMockResponses } from '../../src/llm/mock.js';
import { readTestInputs } from '../../src/run/test-inputs.js';

const dir = mkdtempSync(join(tmpdir(), 'funsearch-user-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const missing = join(dir, 'missing');

async function userError(read: () => unknown): Promise<string> {
  try {
    await read();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return (error as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('a file the user named that cannot be read', () => {
  it.each([
    ['the specification file', 'check -s/--specification-file', () => loadSpec(missing)],
    ['the test-inputs file', 'check -t/--test-inputs-file', () => readTestInputs(missing)],
    ['the config file', 'check --config', () => readConfigFile(missing)],
    ['the env file', 'check --env-file', () => loadEnv(missing, {})],
    ['the mock responses file', 'check --mock-responses', () => loadMockResponses(missing)],
    [
      'the candidate file',
      'check --candidate',
      () =>
        evaluateCommand({
          specFile: 'specs/cap_set.py',
          inputsFile: 'test-inputs/cap_set.txt',
          candidateFile: missing,
          config: parseConfig({ sandbox: { kind: 'process' } }),
          write: () => {},
          log: () => {},
        }),
    ],
  ])('%s: names the file, the error code and the flag, on one line', async (what, fix, read) => {
    expect(await userError(read)).toBe(`${missing}: cannot read ${what} (ENOENT); ${fix}`);
  });

  it('a directory is named with its error code too', async () => {
    expect(await userError(() => loadSpec(dir))).toBe(
      `${dir}: cannot read the specification file (EISDIR); check -s/--specification-file`,
    );
  });

  it('the default .env may be absent; the process environment is used alone', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(await loadEnv(undefined, { A: '1' })).toEqual({ A: '1' });
    } finally {
      process.chdir(cwd);
    }
  });
});
