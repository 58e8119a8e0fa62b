/**
 * The FunSearch loop: samplers turn prompts from the database into samples, a bounded channel
 * carries them to the evaluators, results go back into the database. Stops on a budget, on
 * request (signals), or on an infrastructure fault, which it surfaces instead of hanging.
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ProgramsDatabase } from '../database/programs-database.js';
import type { Prompt } from '../database/prompt.js';
import type { Completion, LanguageModel } from '../llm/language-model.js';
import { OUTCOME_KINDS, type Outcome } from '../sandbox/sandbox.js';
import { budgetStopReason, type StopReason, samplerHasPrompts } from './budget.js';
import { Channel } from './channel.js';
import type { CandidateResult, Evaluator } from './evaluator.js';
import { countOutcome, type RunStats } from './stats.js';

/**
 * Everything that can happen to a sample, in the order reports show them: the sandbox's outcomes,
 * the rejections before the sandbox, and the two ways a sample never reached an evaluation.
 */
export const SAMPLE_OUTCOMES = [
  ...OUTCOME_KINDS,
  'empty',
  'calls-ancestor',
  'llm-error',
  'not-evaluated',
] as const;

/** One line of events.jsonl: what happened to one sample. */
export interface SampleEvent {
  time: string;
  elapsedMs: number;
  island: number | null;
  islandGeneration: number | null;
  version: number | null;
  model: string;
  /** `ok`, an Outcome kind, a rejection kind (`empty`, `syntax-error`, `calls-ancestor`), `llm-error`, or `not-evaluated`. */
  outcome: string;
  score?: number;
  scoresPerTest?: Record<string, number>;
  registered?: boolean;
  newBest?: boolean;
  reason?: string;
  llmLatencyMs?: number;
  /** From taking the sample off the queue to its result, waiting for a container included. */
  evaluationMs?: number;
  /** The candidate's own running time in the sandbox, summed over the inputs it ran. */
  sandboxMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** Set on the event that triggered a reset of the weaker islands. */
  resetIslands?: number[];
  /** For each reset island (same order), the surviving island whose best program re-seeded it. */
  resetFounders?: number[];
}

export interface RunLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface FunSearchOptions {
  config: Config;
  database: ProgramsDatabase;
  evaluator: Evaluator;
  llm: LanguageModel;
  clock: Clock;
  /** Counters, restored from a checkpoint on resume; updated in place. */
  stats: RunStats;
  /** Estimated USD cost of one completion's usage (0 when unknown). */
  costOf?: (completion: Completion) => number;
  onEvent: (event: SampleEvent) => void;
  /** Called after registrations and on a timer; must itself decide whether a checkpoint is due. */
  onProgress?: () => Promise<void> | void;
  logger: RunLogger;
}

/** Raised when the spec's own function does not run: nothing to evolve from. */
export class InitialProgramError extends Error {
  override readonly name = 'InitialProgramError';
  constructor(readonly result: CandidateResult) {
    super(describeFailure(result));
  }
}

interface Sample {
  text: string;
  prompt: Prompt;
  llmLatencyMs: number;
  completion: Completion;
}

export class FunSearch {
  private readonly samplesAbort = new AbortController();
  private readonly evaluationsAbort = new AbortController();
  private stopReason: StopReason | undefined;
  private fatal: unknown;
  private channel: Channel<Sample> | undefined;
  private sessionStart = 0;
  private baseElapsedMs = 0;
  private consecutiveLlmFailures = 0;

  constructor(private readonly options: FunSearchOptions) {
    // Every request and evaluation in flight listens on these two run-long signals.
    setMaxListeners(0, this.samplesAbort.signal, this.evaluationsAbort.signal);
  }

  get stopped(): StopReason | undefined {
    return this.stopReason;
  }

  /**
   * Stops sampling. `interrupted` also aborts LLM requests in flight; evaluations in flight go on
   * until `cancelEvaluations` (the caller's grace period) or until they finish.
   */
  requestStop(reason: StopReason): void {
    if (this.stopReason === undefined) this.stopReason = reason;
    if (reason === 'interrupted' || reason === 'error' || reason === 'llm-failing') {
      this.samplesAbort.abort();
      this.channel?.close();
    }
    // A budget stop only stops new requests: samples already paid for still reach the evaluators,
    // and run() closes the channel once the samplers are done.
  }

  /**
   * Checks the budgets now (the caller's timer), so `--duration` holds even while every sampler
   * waits on a slow request or on a full queue.
   */
  checkBudget(): void {
    if (this.stopReason !== undefined || !this.channel) return;
    this.updateElapsed();
    const { config, stats, database } = this.options;
    const reason = budgetStopReason(config, stats, database.bestScore);
    if (reason) {
      this.options.logger.info(`stopping: budget ${reason} reached`);
      this.requestStop(reason);
    }
  }

  /** Aborts evaluations in flight (second Ctrl-C, or the grace period ran out). */
  cancelEvaluations(): void {
    this.requestStop(this.stopReason ?? 'interrupted');
    this.evaluationsAbort.abort();
  }

  /** Keeps `stats.elapsedMs` current across sessions of a resumed run. */
  updateElapsed(): void {
    this.options.stats.elapsedMs = this.baseElapsedMs + (this.options.clock.now() - this.sessionStart);
  }

  async run(): Promise<StopReason> {
    const { config, database, stats } = this.options;
    this.sessionStart = this.options.clock.now();
    this.baseElapsedMs = stats.elapsedMs;
    if (!database.populated) await this.registerInitialProgram();

    // Samplers may run one round of prompts ahead of the evaluators, no more: a deeper queue only
    // holds samples that a stop would leave unevaluated (or make the run wait for).
    const depth = Math.max(
      config.samples_per_prompt,
      Math.min(config.num_evaluators, config.num_samplers * config.samples_per_prompt),
    );
    const channel = new Channel<Sample>(depth);
    this.channel = channel;
    if (this.stopReason !== undefined) channel.close();
    const evaluators = Array.from({ length: config.num_evaluators }, () => this.evaluateLoop(channel));
    const samplers = Array.from({ length: config.num_samplers }, (_, index) =>
      this.sampleLoop(index, channel),
    );
    await Promise.all(samplers);
    channel.close();
    await Promise.all(evaluators);
    for (const sample of channel.drain()) this.emitNotEvaluated(sample);
    this.updateElapsed();
    if (this.fatal !== undefined) throw this.fatal;
    // Samplers that ran out of prompts stop the run without a request: that is the sample budget.
    this.stopReason ??= 'total-llm-samples';
    return this.stopReason;
  }

  private async registerInitialProgram(): Promise<void> {
    const { database, evaluator } = this.options;
    const fn = database.template.getFunction(database.functionToEvolve);
    const result = await evaluator.evaluateProgram(fn, database.template.toString(), {
      stopAtFirstFailure: false,
      signal: this.evaluationsAbort.signal,
    });
    if (result.status !== 'evaluated' || !result.scoresPerTest) throw new InitialProgramError(result);
    const registration = database.registerInitial(fn, result.scoresPerTest);
    this.options.stats.initialScore = registration.score;
    this.options.logger.info('initial program registered on every island', { score: registration.score });
    this.options.onEvent({
      ...this.eventBase(null),
      outcome: 'ok',
      score: registration.score,
      scoresPerTest: Object.fromEntries(result.scoresPerTest),
      registered: true,
      newBest: true,
      reason: 'initial program',
    });
  }

  private shouldStop(index: number): boolean {
    this.checkBudget();
    if (this.stopReason !== undefined) return true;
    return !samplerHasPrompts(this.options.config, this.options.stats, index);
  }

  private async sampleLoop(index: number, channel: Channel<Sample>): Promise<void> {
    const { config, database, stats } = this.options;
    while (!this.shouldStop(index)) {
      const prompt = database.getPrompt();
      stats.prompts++;
      stats.promptsPerSampler[index] = (stats.promptsPerSampler[index] ?? 0) + 1;
      // As the original: the samples of one prompt are requested together; each goes on as it arrives.
      await Promise.all(
        Array.from({ length: config.samples_per_prompt }, async () => {
          const sample = await this.drawSample(prompt);
          if (sample && !(await channel.put(sample))) this.emitNotEvaluated(sample);
        }),
      );
    }
  }

  private async drawSample(prompt: Prompt): Promise<Sample | undefined> {
    const { llm, stats, logger } = this.options;
    const started = this.options.clock.now();
    try {
      const completion = await llm.generate(prompt.code, this.samplesAbort.signal);
      const llmLatencyMs = this.options.clock.now() - started;
      stats.samplesOk++;
      stats.llmLatencyTotalMs += llmLatencyMs;
      stats.inputTokens += completion.usage?.inputTokens ?? 0;
      stats.outputTokens += completion.usage?.outputTokens ?? 0;
      stats.costUsd += this.options.costOf?.(completion) ?? 0;
      this.consecutiveLlmFailures = 0;
      return { text: completion.text, prompt, llmLatencyMs, completion };
    } catch (error) {
      if (this.samplesAbort.signal.aborted) return undefined;
      stats.samplesFailed++;
      this.consecutiveLlmFailures++;
      const message = (error as Error)?.message ?? String(error);
      logger.warn('LLM sample failed after retries', { error: message });
      this.options.onEvent({
        ...this.eventBase(prompt),
        outcome: 'llm-error',
        reason: message.slice(0, 500),
        llmLatencyMs: this.options.clock.now() - started,
      });
      if ((error as { fatal?: boolean })?.fatal) {
        this.fail(error);
      } else if (this.consecutiveLlmFailures >= this.failureLimit()) {
        this.fail(
          new LlmFailingError(
            `the last ${this.consecutiveLlmFailures} LLM requests all failed (last: ${message}); check the provider, --model and the network`,
          ),
        );
      }
      return undefined;
    }
  }

  /** Enough consecutive failures that no in-flight batch can explain them: the provider is down. */
  private failureLimit(): number {
    return Math.max(10, 2 * this.options.config.num_samplers * this.options.config.samples_per_prompt);
  }

  private async evaluateLoop(channel: Channel<Sample>): Promise<void> {
    for (;;) {
      const sample = await channel.take();
      if (sample === undefined) return;
      if (this.evaluationsAbort.signal.aborted) {
        this.emitNotEvaluated(sample);
        continue;
      }
      try {
        await this.evaluateSample(sample);
      } catch (error) {
        if (
          this.evaluationsAbort.signal.aborted &&
          this.fatal === undefined &&
          this.stopReason !== undefined
        ) {
          this.emitNotEvaluated(sample);
          continue;
        }
        // Not a candidate's fault (those are outcomes): the sandbox itself broke. Stop cleanly and say why.
        this.fail(error);
        this.emitNotEvaluated(sample);
      }
    }
  }

  private async evaluateSample(sample: Sample): Promise<void> {
    const { evaluator, database, stats, logger } = this.options;
    const { prompt } = sample;
    const started = this.options.clock.now();
    const result = await evaluator.evaluate(sample.text, {
      versionGenerated: prompt.versionGenerated,
      signal: this.evaluationsAbort.signal,
    });
    const evaluationMs = this.options.clock.now() - started;
    const sandboxMs =
      result.status === 'evaluated' ? result.outcomes.reduce((sum, o) => sum + o.outcome.durationMs, 0) : 0;
    stats.evaluations++;
    stats.evaluationTotalMs += sandboxMs;
    countOutcome(stats, result.kind);
    const event: SampleEvent = {
      ...this.eventBase(prompt),
      outcome: result.kind,
      llmLatencyMs: sample.llmLatencyMs,
      evaluationMs,
      sandboxMs,
      inputTokens: sample.completion.usage?.inputTokens,
      outputTokens: sample.completion.usage?.outputTokens,
    };
    if (result.status === 'evaluated' && result.scoresPerTest) {
      const registration = database.registerProgram(
        result.fn,
        prompt.islandId,
        prompt.islandGeneration,
        result.scoresPerTest,
      );
      if (registration.registered) stats.registered++;
      else stats.staleDropped++;
      event.score = registration.score;
      event.scoresPerTest = Object.fromEntries(result.scoresPerTest);
      event.registered = registration.registered;
      event.newBest = registration.newBest;
      if (registration.reset) {
        event.resetIslands = registration.reset.resetIslandIds;
        event.resetFounders = registration.reset.founderIslandIds;
      }
      if (registration.newBest)
        logger.info('new best program', { score: registration.score, island: prompt.islandId });
    } else {
      event.reason = describeFailure(result).slice(0, 500);
      logger.debug('candidate failed', { outcome: result.kind, reason: event.reason });
    }
    this.options.onEvent(event);
    await this.options.onProgress?.();
  }

  private emitNotEvaluated(sample: Sample): void {
    this.options.onEvent({
      ...this.eventBase(sample.prompt),
      outcome: 'not-evaluated',
      reason: `run stopped (${this.stopReason ?? 'stop'}) before this sample was evaluated`,
      llmLatencyMs: sample.llmLatencyMs,
    });
  }

  private eventBase(prompt: Prompt | null): SampleEvent {
    this.updateElapsed();
    return {
      time: new Date().toISOString(),
      elapsedMs: Math.round(this.options.stats.elapsedMs),
      island: prompt?.islandId ?? null,
      islandGeneration: prompt?.islandGeneration ?? null,
      version: prompt?.versionGenerated ?? null,
      model: `${this.options.llm.provider}:${this.options.llm.modelId}`,
      outcome: '',
    };
  }

  private fail(error: unknown): void {
    if (this.fatal === undefined) this.fatal = error;
    this.requestStop(error instanceof LlmFailingError ? 'llm-failing' : 'error');
    this.evaluationsAbort.abort();
  }
}

export class LlmFailingError extends Error {
  override readonly name = 'LlmFailingError';
}

/** One line that says why a candidate failed, with the start of its stderr. */
export function describeFailure(result: CandidateResult): string {
  if (result.status === 'rejected') return `${result.kind}: ${result.reason}`;
  const failed = result.outcomes.find((o) => o.outcome.kind !== 'ok');
  if (!failed) return 'ok';
  const outcome = failed.outcome as Exclude<Outcome, { kind: 'ok' }>;
  const stderr = outcome.stderr.trim().split('\n').slice(-3).join(' | ');
  return `${outcome.kind} on input ${failed.input}: ${outcome.reason}${stderr ? ` (stderr: ${stderr})` : ''}`;
}
