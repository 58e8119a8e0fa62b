/** Builds the run's config: defaults, then a JSON config file, then flags (flags win). */
import { type Config, ConfigError, parseConfig } from '../config.js';
import { UserError } from '../errors.js';
import { readUserFile } from '../user-file.js';
import { attributeName, CONFIG_FLAGS, mergeConfig, parseFlagValue, setPath } from './config-flags.js';

/** Reads `--config FILE`: a JSON object with the config's (snake_case) fields. */
export async function readConfigFile(fileName: string): Promise<Record<string, unknown>> {
  const text = await readUserFile({ path: fileName, what: 'the config file', fix: 'check --config' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UserError(
      `${fileName}: not valid JSON (${(error as Error).message}); fix the file given to --config`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError(
      `${fileName}: expected a JSON object of config fields; fix the file given to --config`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** The config fields set by flags, from commander's parsed options (only flags actually given). */
export function configFromFlags(options: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const flag of CONFIG_FLAGS) {
    const value = options[attributeName(flag.flag)];
    if (value === undefined) continue;
    if (flag.kind === 'switch-off') {
      // commander stores `--no-x` as `x: false` (and `x: true` when absent); other switches as true.
      const given = flag.flag.startsWith('no-') ? value === false : value === true;
      if (given) setPath(raw, flag.path, false);
    } else if (flag.kind === 'key-value') {
      const pairs = (Array.isArray(value) ? value : [value]).map((item) =>
        parseFlagValue(flag, String(item)),
      );
      setPath(raw, flag.path, Object.assign({}, ...pairs));
    } else if (flag.kind === 'model-entry') {
      const entries = (Array.isArray(value) ? value : [value]).map((item) =>
        parseFlagValue(flag, String(item)),
      );
      setPath(raw, flag.path, entries);
    } else {
      setPath(raw, flag.path, typeof value === 'string' ? parseFlagValue(flag, value) : value);
    }
  }
  return raw;
}

/** Validates the merged layers; a problem is reported as `source: path: message`. */
export function resolveConfig(layers: {
  fromFile?: Record<string, unknown>;
  fileName?: string;
  fromFlags: Record<string, unknown>;
  base?: Record<string, unknown>;
}): Config {
  const merged = mergeConfig(mergeConfig(layers.base ?? {}, layers.fromFile ?? {}), layers.fromFlags);
  try {
    return parseConfig(merged);
  } catch (error) {
    if (error instanceof ConfigError) {
      const source = layers.fileName ? `config (${layers.fileName} and flags)` : 'config';
      throw new UserError(`${source}: ${error.problems.join('; ')}`);
    }
    throw error;
  }
}

/**
 * Accepts the originals' snake_case spellings (`--num_islands 4`, `--specification_file`) by
 * rewriting them to kebab-case before commander sees them.
 */
export function normaliseArgv(argv: readonly string[]): string[] {
  return argv.map((arg) => {
    if (!arg.startsWith('--') || arg === '--') return arg;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg : arg.slice(0, eq);
    const rest = eq < 0 ? '' : arg.slice(eq);
    return name.replace(/_/g, '-') + rest;
  });
}
