/** Provider parameters: the provider's defaults with the user's overrides on top. */

export type Params = Record<string, unknown>;

/**
 * Shallow merge; an override of `null` removes the default (e.g. `max_tokens: null` for OpenAI
 * reasoning models, which take `max_completion_tokens` instead).
 */
export function mergeParams(defaults: Params, overrides: Params | undefined): Params {
  const merged: Params = { ...defaults };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return merged;
}

/** A finite non-negative count from a provider's usage report, or undefined. */
export function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}
