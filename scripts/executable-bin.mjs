// tsc writes every file with mode 644, and npm makes a package's own bin executable on some install
// paths only (not when `prepare` builds dist/ after npm wrote node_modules/.package-lock.json), so
// `npx funsearch` could fail with "Permission denied". The build makes each bin runnable itself.
import { chmodSync, readFileSync } from 'node:fs';

const SHEBANG = '#!/usr/bin/env node\n';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
for (const bin of bins) {
  if (!readFileSync(bin, 'utf8').startsWith(SHEBANG)) {
    console.error(
      `${bin}: the first line must be \`${SHEBANG.trim()}\` (it comes from its source file in src/)`,
    );
    process.exit(1);
  }
  chmodSync(bin, 0o755);
}
