// Writes docs/flags.md from the built flag table (run through `npm run docs:flags`, which builds first).
import { writeFileSync } from 'node:fs';
import { renderFlagsDoc } from '../dist/cli/flags-doc.js';

writeFileSync(new URL('../docs/flags.md', import.meta.url), renderFlagsDoc());
