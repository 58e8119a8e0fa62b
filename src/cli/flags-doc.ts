/**
 * docs/flags.md, rendered from the one flag table (config-flags.ts) so the reference cannot drift
 * from what the CLI accepts. `npm run docs:flags` writes it; tests/cli/flags-doc.test.ts fails when
 * the file differs from this rendering.
 */
import { CONFIG_FLAGS, type ConfigFlag, defaultOf } from './config-flags.js';

function usage(flag: ConfigFlag): string {
  if (flag.kind === 'switch-off') return `--${flag.flag}`;
  if (flag.kind === 'key-value') return `--${flag.flag} KEY=VALUE`;
  if (flag.kind === 'int' || flag.kind === 'number') return `--${flag.flag} N`;
  if (Array.isArray(flag.kind)) return `--${flag.flag} ${flag.kind.join('|')}`;
  return `--${flag.flag} VALUE`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

export function renderFlagsDoc(): string {
  const rows = CONFIG_FLAGS.map((flag) => {
    const shown = defaultOf(flag);
    const fallback = flag.kind === 'switch-off' ? 'off' : '—';
    return `| \`${cell(usage(flag))}\` | \`${flag.path.join('.')}\` | ${shown === undefined ? fallback : `\`${cell(shown)}\``} | ${cell(flag.description)} |`;
  });
  return [
    '# Config flags',
    '',
    '<!-- Generated from src/cli/config-flags.ts by `npm run docs:flags`; edit that table, not this file. -->',
    '',
    'Every config field is a flag of `funsearch run` and `funsearch evaluate`. Flags are kebab-case;',
    "the originals' snake_case spellings work too (`--num_islands 4`). Precedence: flags, then",
    '`--config FILE` (a JSON object of the same fields in snake_case, nested as the config path',
    'shows), then the defaults below. `funsearch run --help` prints the same list.',
    '',
    '| flag | config path | default | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
