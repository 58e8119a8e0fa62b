// tsc copies no non-TypeScript files; the sandbox harness is Python and must sit beside the compiled code.
import { copyFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/sandbox', { recursive: true });
copyFileSync('src/sandbox/harness.py', 'dist/sandbox/harness.py');
