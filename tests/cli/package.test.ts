import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const execFileAsync = promisify(execFile);

describe('the package main entry', () => {
  it('exports the parsing, spec, database and config building blocks by name', async () => {
    const api = (await import(`${ROOT}dist/index.js`)) as Record<string, unknown>;
    for (const name of [
      'textToProgram',
      'textToFunction',
      'renameFunctionCalls',
      'getFunctionsCalled',
      'yieldDecorated',
      'trimFunctionBody',
      'parseSpec',
      'ProgramsDatabase',
      'configSchema',
      'initParser',
    ]) {
      expect(api[name], name).toBeDefined();
    }
  });

  it('parses a spec once the parser is initialised', async () => {
    const api = (await import(`${ROOT}dist/index.js`)) as typeof import('../../src/index.js');
    await api.initParser();
    const spec = api.parseSpec(
      'import x\n\n@funsearch.run\ndef evaluate(n):\n  return priority(n)\n\n\n@funsearch.evolve()\ndef priority(n):\n  return 0.0\n',
      'spec.py',
    );
    expect(spec.functionToEvolve).toBe('priority');
    expect(spec.functionToRun).toBe('evaluate');
    expect(spec.program.toString()).not.toContain('@funsearch');
  });
});

describe('the build', () => {
  // dist/ is what `npm run build` left (npm test builds first; tests/helpers/build.ts rebuilds a
  // stale one), so this checks the build script's own result without a second compilation.
  it('leaves the bin executable (mode 755) with its node shebang, so `npx funsearch` runs it on any npm path', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const bin = join(ROOT, pkg.bin.funsearch!);
    expect((await stat(bin)).mode & 0o777).toBe(0o755);
    expect((await readFile(bin, 'utf8')).split('\n')[0]).toBe('#!/usr/bin/env node');
    // Executed directly, as npm's bin link does: the kernel reads the shebang.
    const { stdout } = await execFileAsync(bin, ['--help'], { cwd: ROOT });
    expect(stdout).toContain('funsearch');
  });
});
