import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_FLAGS } from '../../src/cli/config-flags.js';
import { ROOT } from '../helpers/cli.js';

const readme = readFileSync(`${ROOT}README.md`, 'utf8');
const envExample = readFileSync(`${ROOT}.env.example`, 'utf8');

describe('README.md', () => {
  it('documents every config flag with its config path', () => {
    const missing = CONFIG_FLAGS.filter(
      (flag) => !readme.includes(`\`--${flag.flag}`) || !readme.includes(flag.path.join('.')),
    ).map((flag) => flag.flag);
    expect(missing).toEqual([]);
  });

  it('gives the test command that .ci/run runs', () => {
    expect(readme).toContain('npm test');
    expect(readFileSync(`${ROOT}.ci/run`, 'utf8')).toContain('npm test');
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
      .map((path) => readFileSync(`${ROOT}${path}`, 'utf8'))
      .join('\n');
    const read = new Set([...sources.matchAll(/get\('([A-Z][A-Z0-9_]+)'\)/g)].map((match) => match[1]!));
    expect(read.size).toBeGreaterThan(5);
    expect([...read].filter((name) => !envExample.includes(name))).toEqual([]);
  });
});
