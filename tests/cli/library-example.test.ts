/** The README's library example, run as written against the built package. */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Use it as a library'));
  const match = /```js\n([\s\S]*?)```/.exec(section);
  if (!match) throw new Error('README.md has no js block under "Use it as a library"');
  return match[1]!;
}

describe("the README's library example", () => {
  it('runs a search in-process and prints the best score', () => {
    // Inside the package directory, `import … from 'funsearch'` resolves to the package itself.
    const file = join(ROOT, `.readme-example-${process.pid}.mjs`);
    writeFileSync(file, readmeExample());
    try {
      const result = spawnSync(process.execPath, [file], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/^total-llm-samples: best score \d+ after 16 samples$/m);
    } finally {
      rmSync(file, { force: true });
    }
  });
});
