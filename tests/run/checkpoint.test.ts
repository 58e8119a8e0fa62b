import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { writeFileAtomic } from '../../src/run/atomic-file.js';
import { readCheckpoint } from '../../src/run/checkpoint.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'funsearch-checkpoint-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('replaces the content and leaves no temporary file', async () => {
    const path = join(dir, 'state.json');
    await writeFileAtomic(path, 'one');
    await writeFileAtomic(path, 'two');
    expect(await readFile(path, 'utf8')).toBe('two');
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('leaves the previous or the next content when the writer is killed -9 at any moment', async () => {
    const path = join(dir, 'state.json');
    // A child rewrites the file as fast as it can with versions of 1 MiB each; we SIGKILL it at
    // staggered moments and check that the file always parses as one whole version.
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(new URL('../../dist/run/atomic-file.js', import.meta.url).pathname)};
      let n = 0;
      for (;;) { n++; await writeFileAtomic(${JSON.stringify(path)}, JSON.stringify({ n, pad: 'x'.repeat(1 << 20) })); }
    `;
    await writeFile(join(dir, 'writer.mjs'), script);
    let versionsSeen = 0;
    for (const delay of [5, 17, 29, 41, 53]) {
      const child = spawn(process.execPath, [join(dir, 'writer.mjs')], { stdio: 'ignore' });
      // Kill only once the writer is rewriting (a file exists), at a different moment each time.
      while (
        !(await readFile(path).then(
          () => true,
          () => false,
        ))
      )
        await sleep(2);
      await sleep(delay);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const parsed = JSON.parse(await readFile(path, 'utf8')) as { n: number; pad: string };
      expect(parsed.pad.length).toBe(1 << 20);
      expect(parsed.n).toBeGreaterThan(0);
      versionsSeen++;
      await rm(path);
    }
    expect(versionsSeen).toBe(5);
  });
});

describe('readCheckpoint', () => {
  it('names the file and says what to check when it is missing, broken or foreign', async () => {
    await expect(readCheckpoint(join(dir, 'none.json'))).rejects.toThrow(UserError);
    await expect(readCheckpoint(join(dir, 'none.json'))).rejects.toThrow(
      /none\.json: cannot read the checkpoint.*--resume/,
    );
    await writeFile(join(dir, 'broken.json'), '{"format":');
    await expect(readCheckpoint(join(dir, 'broken.json'))).rejects.toThrow(
      /broken\.json: the checkpoint is not valid JSON/,
    );
    await writeFile(join(dir, 'other.json'), '{"format":"something"}');
    await expect(readCheckpoint(join(dir, 'other.json'))).rejects.toThrow(
      /other\.json: not a funsearch checkpoint/,
    );
  });
});

describe('checkpoint format versions', () => {
  it('refuses a checkpoint written by a newer release, naming what to do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'funsearch-checkpoint-version-'));
    const path = join(dir, 'checkpoint.json');
    await writeFile(path, JSON.stringify({ format: 'funsearch-checkpoint', version: 99 }));
    await expect(readCheckpoint(path)).rejects.toThrow(/newer funsearch .*upgrade funsearch/);
    await rm(dir, { recursive: true, force: true });
  });
});
