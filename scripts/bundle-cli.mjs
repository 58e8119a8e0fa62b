// The command line as a few bundled files (dist/bin/), built from tsc's dist/cli.js. Node 20 spent
// about half of every CLI start resolving, reading and linking some 300 module files (zod alone is
// 95); a CLI start now costs 0.15 to 0.3 CPU-seconds less (a worker the most). Each command stays
// its own chunk, loaded when chosen, as in the unbundled build.
//
// Left out of the bundle, and loaded from node_modules as the library loads them: packages that
// find files of their own at run time (the tree-sitter grammar and runtime, pino's transports), and
// the model SDKs and Docker client, which only the commands that use them load.
import { rmSync } from 'node:fs';
import { build } from 'rolldown';

const OUT = 'dist/bin';
const EXTERNAL = new Set([
  'web-tree-sitter',
  'tree-sitter-python',
  'pino',
  'dockerode',
  'openai',
  'replicate',
  '@google/genai',
  '@huggingface/inference',
]);

function packageOf(id) {
  const parts = id.split('/');
  return id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

rmSync(OUT, { recursive: true, force: true }); // chunk names carry hashes: no stale ones
await build({
  input: { funsearch: 'dist/cli.js' },
  platform: 'node',
  external: (id) =>
    id.startsWith('node:') || (!id.startsWith('.') && !id.startsWith('/') && EXTERNAL.has(packageOf(id))),
  output: { dir: OUT, format: 'esm', chunkFileNames: '[name]-[hash].js' },
  logLevel: 'warn',
});
