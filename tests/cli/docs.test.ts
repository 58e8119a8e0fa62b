import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FLAGS } from '../../src/cli/config-flags.js';
import { renderFlagsDoc } from '../../src/cli/flags-doc.js';
import { ROOT } from '../helpers/cli.js';
import { RUN_EVERYTHING } from '../helpers/system.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const readme = read('README.md');

describe('docs/flags.md', () => {
  const doc = read('docs/flags.md');

  it('is the current rendering of the flag table (npm run docs:flags rewrites it)', () => {
    expect(doc, 'docs/flags.md is stale: run npm run docs:flags').toBe(renderFlagsDoc());
  });

  it('names every config flag with its config path and default', () => {
    const missing = CONFIG_FLAGS.filter(
      (flag) => !doc.includes(`\`--${flag.flag}`) || !doc.includes(`\`${flag.path.join('.')}\``),
    ).map((flag) => flag.flag);
    expect(missing).toEqual([]);
    expect(doc).toMatch(/\| `--num-islands N` \| `programs_database\.num_islands` \| `10` \|/);
  });
});

describe('README.md', () => {
  it('gives the test command that passes on a fresh machine and the one that runs everything', () => {
    expect(readme).toContain('npm test');
    expect(readme).toContain(RUN_EVERYTHING);
  });

  it('is the command .ci/run runs', () => {
    expect(read('.ci/run')).toContain(RUN_EVERYTHING);
  });

  it('links only to files that exist, in the README and in docs/', () => {
    const pages = [
      'README.md',
      ...readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const broken: string[] = [];
    for (const page of pages) {
      for (const match of read(page).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1]!;
        if (/^[a-z]+:/.test(target)) continue; // a web address
        if (!existsSync(join(ROOT, dirname(page), target))) broken.push(`${page} -> ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('.env.example', () => {
  it('lists every variable the providers read', () => {
    const sources = [
      'src/llm/index.ts',
      'src/llm/gemini.ts',
      'src/llm/openai.ts',
      'src/llm/replicate.ts',
      'src/llm/starcoder.ts',
    ]
      .map(read)
      .join('\n');
    const names = new Set([...sources.matchAll(/get\('([A-Z][A-Z0-9_]+)'\)/g)].map((match) => match[1]!));
    expect(names.size).toBeGreaterThan(5);
    const envExample = read('.env.example');
    expect([...names].filter((name) => !envExample.includes(name))).toEqual([]);
  });
});
