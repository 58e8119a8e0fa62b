// tsc copies no non-TypeScript files; the sandbox harness is Python and must sit beside the compiled
// sandbox code: dist/sandbox for the library, dist/bin for the bundled command line,
// dist-bench/src/sandbox for the benchmarks.
import { copyFileSync, mkdirSync } from 'node:fs';

const target = process.argv[2] ?? 'dist/sandbox';
mkdirSync(target, { recursive: true });
copyFileSync('src/sandbox/harness.py', `${target}/harness.py`);
