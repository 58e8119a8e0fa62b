/**
 * Per-model figures of a run that mixes models (one model is the one-row case): samples, valid
 * rate, registered programs, new bests, tokens, estimated cost and median LLM latency, folded from
 * the run's sample events, so summary.json, the status line and the report all count alike.
 */

import type { z } from 'zod';
import type { LanguageModel } from '../llm/language-model.js';
import { isModelMix, modelKey } from '../llm/mix.js';
import type { SelectorState } from '../llm/model-selection.js';
import { costOfUsage, type Price, type UsageMeter } from '../llm/usage.js';
import type { modelFiguresSchema, Summary } from './formats.js';

/** The fields of a sample event (events.jsonl) these figures read. */
export interface ModelEventFields {
  /** `provider:modelId` of the model that answered. */
  model?: string;
  outcome: string;
  registered?: boolean;
  newBest?: boolean;
  inputTokens?: number;
  outputTokens?: number;
  llmLatencyMs?: number;
}

export type ModelFigures = z.infer<typeof modelFiguresSchema>;

/** Outcomes that never reached an evaluation. */
const NOT_EVALUATED = new Set(['llm-error', 'not-evaluated']);

interface Tally {
  samples: number;
  llmErrors: number;
  evaluated: number;
  valid: number;
  registered: number;
  newBests: number;
  inputTokens: number;
  outputTokens: number;
  /**
   * LLM latency, rounded to the ms, -> how many samples took it. A sorted list grew by one
   * insertion per sample, O(n) each: 0.6 s of CPU to read a 100 000-sample run's events.
   */
  latencies: Map<number, number>;
  latencyCount: number;
}

/** A tally as a checkpoint holds it: the latencies as one sorted list, as before. */
type SavedTally = Omit<Tally, 'latencies' | 'latencyCount'> & { latencies: number[] };

const TALLY_COUNTS = [
  'samples',
  'llmErrors',
  'evaluated',
  'valid',
  'registered',
  'newBests',
  'inputTokens',
  'outputTokens',
] as const;

/** Counts events as they come; `figures()` at any time. */
export class ModelFiguresCounter {
  private readonly tallies = new Map<string, Tally>();

  /** `models` in the order the rows should keep (the configuration's); others follow as they appear. */
  constructor(models: readonly string[] = []) {
    for (const model of models) this.tally(model);
  }

  add(event: ModelEventFields): void {
    if (event.model === undefined) return;
    const tally = this.tally(event.model);
    tally.samples++;
    if (event.outcome === 'llm-error') tally.llmErrors++;
    if (!NOT_EVALUATED.has(event.outcome)) {
      tally.evaluated++;
      if (event.outcome === 'ok') tally.valid++;
    }
    if (event.registered) tally.registered++;
    if (event.newBest) tally.newBests++;
    tally.inputTokens += finite(event.inputTokens);
    tally.outputTokens += finite(event.outputTokens);
    if (event.llmLatencyMs !== undefined && Number.isFinite(event.llmLatencyMs)) {
      countLatency(tally, Math.round(event.llmLatencyMs));
    }
  }

  /** One row per model; `priceOf` gets `provider:modelId`. */
  figures(priceOf: (model: string) => Price | undefined = () => undefined): ModelFigures[] {
    return [...this.tallies.entries()].map(([model, tally]) => {
      const price = priceOf(model);
      return {
        model,
        samples: tally.samples,
        llmErrors: tally.llmErrors,
        evaluated: tally.evaluated,
        valid: tally.valid,
        validRate: tally.evaluated > 0 ? tally.valid / tally.evaluated : null,
        registered: tally.registered,
        newBests: tally.newBests,
        inputTokens: tally.inputTokens,
        outputTokens: tally.outputTokens,
        costUsd: price ? (costOfUsage(price, tally) ?? 0) : null,
        medianLatencyMs: medianLatency(tally),
      };
    });
  }

  /** Plain JSON for a checkpoint. */
  toJSON(): Record<string, SavedTally> {
    return Object.fromEntries(
      [...this.tallies].map(([model, { latencies, latencyCount: _, ...counts }]) => [
        model,
        { ...counts, latencies: sortedKeys(latencies).flatMap((ms) => Array(latencies.get(ms)!).fill(ms)) },
      ]),
    );
  }

  /** Continues the counts of a checkpoint; a part that does not read as counts is skipped. */
  restore(state: unknown): void {
    if (typeof state !== 'object' || state === null) return;
    for (const [model, saved] of Object.entries(state as Record<string, Partial<SavedTally>>)) {
      if (typeof saved !== 'object' || saved === null || !Array.isArray(saved.latencies)) continue;
      const tally = this.tally(model);
      for (const key of TALLY_COUNTS) tally[key] = finite(saved[key]);
      tally.latencies = new Map();
      tally.latencyCount = 0;
      for (const value of saved.latencies) if (Number.isFinite(value)) countLatency(tally, value);
    }
  }

  private tally(model: string): Tally {
    let tally = this.tallies.get(model);
    if (!tally) {
      tally = {
        samples: 0,
        llmErrors: 0,
        evaluated: 0,
        valid: 0,
        registered: 0,
        newBests: 0,
        inputTokens: 0,
        outputTokens: 0,
        latencies: new Map(),
        latencyCount: 0,
      };
      this.tallies.set(model, tally);
    }
    return tally;
  }
}

/** The figures of a whole event log at once. */
export function modelFigures(
  events: Iterable<ModelEventFields>,
  priceOf?: (model: string) => Price | undefined,
  models: readonly string[] = [],
): ModelFigures[] {
  const counter = new ModelFiguresCounter(models);
  for (const event of events) counter.add(event);
  return counter.figures(priceOf);
}

/** What summary.json says about the run's models. */
export type ModelSummary = Pick<Summary, 'models' | 'modelSelection'>;

/** The model part of summary.json, from the run's counter, its language model and the meter's prices. */
export function modelSummary(
  counter: ModelFiguresCounter,
  llm: LanguageModel,
  meter?: Pick<UsageMeter, 'priceOf'>,
): ModelSummary {
  const priceOf = (key: string) => meter?.priceOf(key.slice(key.indexOf(':') + 1));
  const models = counter.figures(priceOf);
  if (!isModelMix(llm)) return { models };
  return {
    models,
    modelSelection: {
      kind: llm.selector.kind,
      models: [...llm.models],
      weightHistory: llm.weightHistory(),
    },
  };
}

/** The counter of a run: rows in the order of the mix's models (or the one model's). */
export function modelFiguresCounterFor(llm: LanguageModel): ModelFiguresCounter {
  return new ModelFiguresCounter(isModelMix(llm) ? llm.models : [modelKey(llm)]);
}

/**
 * The run's side of its models: counts every sample event per model, tells a learning mix how each
 * sample fared, and keeps both across a resume (checkpoint extras under `models`).
 */
export class RunModels {
  private readonly counter: ModelFiguresCounter;

  constructor(
    private readonly llm: LanguageModel,
    private readonly meter?: Pick<UsageMeter, 'priceOf'>,
  ) {
    this.counter = modelFiguresCounterFor(llm);
  }

  /** Every sample event; the initial program's (no sample id, not an LLM error) is not a model's. */
  record(event: ModelEventFields & { sample?: string }): void {
    if (event.sample !== undefined || event.outcome === 'llm-error') this.counter.add(event);
  }

  /**
   * How a sample fared, for a mix that learns (UCB): `improved` when its program scored above its
   * island's best before it was registered.
   */
  feedback(model: string | undefined, improved: boolean): void {
    if (model !== undefined) this.llm.observe?.({ model, reward: improved ? 1 : 0 });
  }

  figures(): ModelFigures[] {
    return this.summary().models;
  }

  summary(): ModelSummary {
    return modelSummary(this.counter, this.llm, this.meter);
  }

  toJSON(): { figures: Record<string, unknown>; mix?: { models: string[]; selection: SelectorState } } {
    return {
      figures: this.counter.toJSON(),
      ...(isModelMix(this.llm)
        ? { mix: { models: [...this.llm.models], selection: this.llm.selector.toJSON() } }
        : {}),
    };
  }

  /** Restores a checkpoint's `toJSON()`; a selection saved for other models starts afresh. */
  restore(state: unknown): void {
    if (typeof state !== 'object' || state === null) return;
    const { figures, mix } = state as {
      figures?: unknown;
      mix?: { models?: unknown; selection?: SelectorState };
    };
    this.counter.restore(figures);
    const llm = this.llm;
    // A mix changed between sessions (--model-mix on resume) starts its selection afresh.
    if (!mix?.selection || !isModelMix(llm) || JSON.stringify(mix.models) !== JSON.stringify(llm.models))
      return;
    try {
      llm.selector.restore(mix.selection);
    } catch {
      // Saved for another kind of selection (--model-selection changed): start afresh too.
    }
  }
}

/** `cheap 74% valid 41%, strong 26% valid 63%`: each model's share of samples and valid rate, for the status line. */
export function modelStatus(figures: readonly ModelFigures[]): string {
  const total = figures.reduce((sum, row) => sum + row.samples, 0);
  return figures
    .map((row) => {
      const share = total > 0 ? `${Math.round((100 * row.samples) / total)}%` : '-';
      const valid = row.validRate === null ? '-' : `${Math.round(100 * row.validRate)}%`;
      return `${row.model} ${share} valid ${valid}`;
    })
    .join(', ');
}

function countLatency(tally: Tally, ms: number): void {
  tally.latencies.set(ms, (tally.latencies.get(ms) ?? 0) + 1);
  tally.latencyCount++;
}

function sortedKeys(counts: ReadonlyMap<number, number>): number[] {
  return [...counts.keys()].sort((a, b) => a - b);
}

/** The median of the counted latencies: the middle one, or the mean of the middle two. */
function medianLatency({ latencies, latencyCount }: Tally): number | null {
  if (latencyCount === 0) return null;
  const low = Math.floor((latencyCount - 1) / 2); // 0-based ranks of the middle value(s)
  const high = Math.floor(latencyCount / 2);
  let seen = 0;
  let lowValue = 0;
  for (const ms of sortedKeys(latencies)) {
    const next = seen + latencies.get(ms)!;
    if (low >= seen && low < next) lowValue = ms;
    if (high < next) return (lowValue + ms) / 2;
    seen = next;
  }
  return null; // not reached: the counts add up to latencyCount
}

function finite(value: number | undefined): number {
  return value !== undefined && Number.isFinite(value) ? value : 0;
}
