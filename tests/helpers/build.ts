/**
 * vitest globalSetup: the CLI and package tests run dist/, so build it first whenever a source is
 * newer than the last build. Without this, `npx vitest run` would silently test a stale build.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Everything the build reads. */
const INPUTS = [
  'src',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
  'scripts/copy-assets.mjs',
  'scripts/executable-bin.mjs',
  'scripts/bundle-cli.mjs',
];
/** What the build writes; tsc and the bundler rewrite every output, so their times are the build's. */
const OUTPUTS = ['dist/cli.js', 'dist/index.js', 'dist/sandbox/harness.py', 'dist/bin/funsearch.js'];

function newestMtime(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function oldestOutput(): number {
  try {
    return Math.min(...OUTPUTS.map((path) => statSync(join(ROOT, path)).mtimeMs));
  } catch {
    return 0; // never built
  }
}

export default function setup(): void {
  const sources = Math.max(...INPUTS.map((path) => newestMtime(join(ROOT, path))));
  if (sources <= oldestOutput()) return;
  process.stdout.write('Sources changed since the last build: npm run build (the CLI tests run dist/)\n');
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `npm run build failed, so the CLI tests cannot run the current source:\n${stdout}${stderr}`,
    );
  }
}
