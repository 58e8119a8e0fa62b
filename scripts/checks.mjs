// `npm test`'s static checks: the package's `typecheck` and `lint` scripts, run side by side (each
// holds one core for a few seconds; one after the other they left the second core idle) and without
// an npm process each. Their output is printed whole, one after the other; the exit status is 1 when
// either failed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const PATH = [join(root, 'node_modules', '.bin'), process.env.PATH].join(delimiter);

function run(name) {
  return new Promise((resolve) => {
    const child = spawn(scripts[name], {
      cwd: root,
      shell: true,
      env: { ...process.env, PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (error) => resolve({ name, ok: false, output: `${error.message}\n` }));
    child.on('close', (code) => resolve({ name, ok: code === 0, output }));
  });
}

const results = await Promise.all(['typecheck', 'lint'].map(run));
for (const { name, ok, output } of results) {
  process.stdout.write(`> ${name}: ${scripts[name]}\n${output}`);
  if (!ok) process.stdout.write(`> ${name} failed\n`);
}
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
