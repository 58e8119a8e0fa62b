/**
 * One FunSearch run, from its parts: the spec, the inputs, a sandbox, a language model, a store,
 * a clock. It owns the whole lifecycle (initial program, samplers, evaluation slots, budgets,
 * checkpoints, events, reports, resume, a clean stop) and returns a result; it never exits the
 * process and never touches signals: callers stop it with `stop()` or an AbortSignal.
 *
 * Concurrency has one owner here. The sandbox's capacity is the number of evaluation slots, and
 * the channel between samplers and evaluators is the only queue: samplers reserve room in it
 * before asking the LLM, so samples drawn and not yet evaluated never exceed
 * `channel depth + capacity`, which is also the most a Ctrl-C can leave unevaluated.
 */
import { setMaxListeners } from 'node:events';
import { type Clock, systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { ProgramsDatabase } from '../database/programs-database.js';
import type { Prompt } from '../database/prompt.js';
import { isLlmApiError } from '../llm/errors.js';
import type { Completion, LanguageModel } from '../llm/language-model.js';
import { costOfUsage, type UsageMeter } from '../llm/usage.js';
import { type Logger, silentLogger } from '../logger.js';
import { Random } from '../random.js';
import type { Outcome, Sandbox, SandboxStatus } from '../sandbox/sandbox.js';
import type { Program } from '../spec/program.js';
import { budgetStopReason, type StopReason, samplerHasPrompts } from './budget.js';
import { Channel } from './channel.js';
import { contextFingerprint, EvalCache } from './eval-cache.js';
import { type CandidateResult, Evaluator } from './evaluator.js';
import {
  type Checkpoint,
  FORMAT_VERSIONS,
  type RunStatus,
  type SampleEvent,
  type Summary,
} from './formats.js';
import { type ModelFigures, RunModels } from './model-figures.js';
import { buildReports, buildSummary } from './report-files.js';
import { SlotLease, Slots } from './slots.js';
import { countOutcome, emptyStats, type RunStats } from './stats.js';
import { MemoryStore, type RunStore } from './store.js';
import type { TestInput } from './test-inputs.js';

export interface RunSpec {
  program: Program;
  functionToEvolve: string;
  functionToRun: string;
  /** Shown in reports; the spec's own path. */
  specFile?: string;
}

export interface RunOptions {
  config: Config;
  spec: RunSpec;
  inputs: readonly TestInput[];
  /** Started by the run, and closed by it when the run ends. */
  sandbox: Sandbox;
  llm: LanguageModel;
  /** Where checkpoints, events and reports go; in memory by default. */
  store?: RunStore;
  clock?: Clock;
  /** The run's seeded generator (prompts, island resets); default from `config.seed`. */
  random?: Random;
  /** Aborting it is `stop()`. */
  signal?: AbortSignal;
  logger?: Logger;
  /** Prices by model id (the usage meter's): the run's and each model's estimated cost. */
  prices?: Pick<UsageMeter, 'priceOf'>;
  onEvent?: (event: SampleEvent) => void;
  /** Called every `tickMs` with the run's state, for a status display. */
  onTick?: (view: RunView) => void;
  tickMs?: number;
  /** How long evaluations in flight may go on after the first `stop()`; default from the timeout. */
  graceMs?: number;
}

/** What a status display shows. */
export interface RunView {
  config: Config;
  stats: RunStats;
  database: ProgramsDatabase;
  /** Evaluation slots now (the sandbox's capacity). */
  capacity: number;
  evaluating: number;
  queued: number;
  drawnNotEvaluated: number;
  /** Per-model figures (one row for a run with one model). */
  models: ModelFigures[];
  /** Workers, their throughput and share, for a sandbox that reports them (a Redis queue). */
  sandbox?: SandboxStatus | undefined;
}

export interface RunResult {
  status: Exclude<RunStatus, 'running'>;
  stopReason: StopReason;
  bestScore: number | null;
  /** The whole program with the best function in it. */
  bestProgram: string | null;
  counts: Summary['counts'];
  concurrency: Summary['concurrency'];
  /** The run directory, when the store has one. */
  runDir: string | undefined;
  /** The fault that ended a `failed` run (an LLM that refuses, a sandbox that broke). */
  error?: unknown;
}

/** The spec's own function does not run: nothing to evolve from. A candidate's failure, so exit 1. */
export class InitialProgramError extends Error {
  override readonly name = 'InitialProgramError';
  constructor(
    readonly functionName: string,
    readonly result: CandidateResult,
  ) {
    super(`the spec's own ${functionName} fails: ${describeFailure(result)}`);
  }
}

export class LlmFailingError extends Error {
  override readonly name = 'LlmFailingError';
}

interface Sample {
  id: string;
  text: string;
  prompt: Prompt;
  completion: Completion;
  llmLatencyMs: number;
  drawnAt: number;
}

const HTML_REPORT_INTERVAL_MS = 60_000;
/** The checkpoint's `extras` key of the evaluation cache. */
const EVAL_CACHE_EXTRA = 'evalCache';

export class Run {
  private readonly config: Config;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly store: RunStore;
  private readonly random: Random;
  private readonly evaluator: Evaluator;
  private readonly samplesAbort = new AbortController();
  private readonly evaluationsAbort = new AbortController();
  private readonly channel: Channel<Sample>;
  private readonly slots: Slots;
  private readonly models: RunModels;
  private stats: RunStats;
  private database: ProgramsDatabase | undefined;
  /** The evaluation cache; undefined when `eval_cache.enabled` is off. */
  private cache: EvalCache | undefined;
  private stopReason: StopReason | undefined;
  private fatal: unknown;
  private started = false;
  private opened = false;
  private sessionStart = 0;
  private baseElapsedMs = 0;
  private consecutiveLlmFailures = 0;
  private drawnNotEvaluated = 0;
  private maxDrawnNotEvaluated = 0;
  private stopRequests = 0;
  private graceTimer: NodeJS.Timeout | undefined;
  private lastCheckpointAt = 0;
  private registeredAtCheckpoint = 0;
  private lastPageAt = Number.NEGATIVE_INFINITY;
  private checkpointing: Promise<void> = Promise.resolve();
  private status: RunStatus = 'running';
  private startedAt = new Date().toISOString();

  constructor(private readonly options: RunOptions) {
    this.config = options.config;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.store = options.store ?? new MemoryStore();
    this.random = options.random ?? new Random(options.config.seed ?? Math.floor(Math.random() * 2 ** 31));
    this.stats = emptyStats(options.config.num_samplers);
    this.evaluator = new Evaluator({
      sandbox: options.sandbox,
      template: options.spec.program,
      functionToEvolve: options.spec.functionToEvolve,
      functionToRun: options.spec.functionToRun,
      testInputs: options.inputs,
      timeoutSeconds: options.config.timeout,
    });
    this.channel = new Channel<Sample>(channelDepth(options.config));
    this.slots = new Slots(options.sandbox.capacity);
    this.models = new RunModels(options.llm, options.prices);
    // Every request and evaluation in flight listens on these two run-long signals.
    setMaxListeners(0, this.samplesAbort.signal, this.evaluationsAbort.signal);
  }

  /** How long evaluations in flight may go on after the first `stop()`. */
  get graceMs(): number {
    return this.options.graceMs ?? Math.max(10, this.config.timeout * this.options.inputs.length + 5) * 1000;
  }

  /** The state a status display shows; undefined until the database exists. */
  view(): RunView | undefined {
    if (!this.database) return undefined;
    this.updateElapsed();
    return {
      config: this.config,
      stats: this.stats,
      database: this.database,
      capacity: this.slots.limit,
      evaluating: this.slots.inUse,
      queued: this.channel.size,
      drawnNotEvaluated: this.drawnNotEvaluated,
      models: this.models.figures(),
      sandbox: this.options.sandbox.status?.(),
    };
  }

  /**
   * Stops the run. The first call (or the signal) stops sampling and aborts LLM requests in
   * flight; queued samples and evaluations in flight get the grace period. A second call cancels
   * them at once.
   */
  stop(): void {
    this.stopRequests++;
    if (this.stopRequests > 1) {
      this.cancelEvaluations();
      return;
    }
    this.requestStop('interrupted');
    this.graceTimer = setTimeout(() => this.cancelEvaluations(), this.graceMs);
    this.graceTimer.unref?.();
  }

  async start(): Promise<RunResult> {
    if (this.started) throw new Error('a Run starts once');
    this.started = true;
    const { signal } = this.options;
    const onAbort = () => this.stop();
    if (signal?.aborted) this.stop();
    signal?.addEventListener('abort', onAbort);
    let unsubscribe: (() => void) | undefined;
    let ticker: NodeJS.Timeout | undefined;
    try {
      await this.prepare();
      unsubscribe = this.options.sandbox.onCapacityChange?.((capacity) => {
        this.logger.info({ capacity }, 'sandbox capacity changed');
        this.slots.setLimit(capacity);
      });
      this.slots.setLimit(this.options.sandbox.capacity);
      ticker = setInterval(() => this.tick(), this.options.tickMs ?? 1000);
      ticker.unref?.();
      try {
        await this.loop();
        this.status = this.stopReason === 'interrupted' ? 'interrupted' : 'finished';
      } catch (error) {
        this.fatal ??= error;
      }
      if (this.fatal !== undefined) this.status = 'failed';
      this.logger.info(
        { stopReason: this.stopReason, best: this.database!.bestScore },
        `run ${this.status}: ${this.stopReason}`,
      );
      return this.result();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      unsubscribe?.();
      if (ticker) clearInterval(ticker);
      if (this.graceTimer) clearTimeout(this.graceTimer);
      await this.finish();
    }
  }

  /**
   * Everything that can fail before the run exists: the model's credentials, the sandbox, the
   * checkpoint, the spec's own function. A failure here leaves nothing behind and throws.
   */
  private async prepare(): Promise<void> {
    const { llm, sandbox, spec } = this.options;
    if (this.config.llm.check && llm.provider !== 'mock' && llm.check) {
      this.logger.info({}, `checking ${llm.provider} credentials and model ${llm.modelId}`);
      await llm.check(this.samplesAbort.signal);
    }
    await sandbox.start();
    const checkpoint = await this.store.readCheckpoint();
    this.sessionStart = this.clock.now();
    this.cache = this.openCache(checkpoint);
    let initial: { fn: ReturnType<Program['getFunction']>; scores: Map<string, number> } | undefined;
    if (checkpoint) {
      this.stats = checkpoint.stats;
      this.models.restore(checkpoint.extras?.models);
      while (this.stats.promptsPerSampler.length < this.config.num_samplers)
        this.stats.promptsPerSampler.push(0);
      this.database = ProgramsDatabase.fromJSON(checkpoint.database as never, {
        random: this.random,
        clock: this.clock,
      });
    } else {
      const fn = spec.program.getFunction(spec.functionToEvolve);
      const result = await this.evaluator.evaluateProgram(fn, spec.program.toString(), {
        stopAtFirstFailure: false,
        signal: this.evaluationsAbort.signal,
      });
      if (result.status !== 'evaluated' || !result.scoresPerTest)
        throw new InitialProgramError(spec.functionToEvolve, result);
      // Every input ran ok: the same outcomes a batch would give, so a sample repeating the spec's own function reuses them.
      this.cache?.set(
        EvalCache.keyOf(result.program),
        result.outcomes.map((o) => o.outcome),
      );
      initial = { fn, scores: result.scoresPerTest };
      this.database = new ProgramsDatabase({
        config: this.config.programs_database,
        template: spec.program,
        functionToEvolve: spec.functionToEvolve,
        random: this.random,
        clock: this.clock,
      });
    }
    await this.store.open();
    this.opened = true;
    this.baseElapsedMs = this.stats.elapsedMs;
    this.lastCheckpointAt = this.clock.now();
    this.registeredAtCheckpoint = this.database.programsRegistered;
    if (this.store.dir) this.logger.info({}, `run directory ${this.store.dir}`);
    if (initial) {
      // A resumed directory without a checkpoint was killed before its first: start it again.
      await this.store.resetEvents();
      const registration = this.database.registerInitial(initial.fn, initial.scores);
      this.stats.initialScore = registration.score;
      this.logger.info({ score: registration.score }, 'initial program registered on every island');
      this.emit({
        ...this.eventBase(null),
        outcome: 'ok',
        score: registration.score,
        scoresPerTest: Object.fromEntries(initial.scores),
        registered: true,
        newBest: true,
        reason: 'initial program',
      });
      // From here on, a kill at any second leaves a run that --resume continues.
      await this.saveCheckpoint(false);
    }
  }

  private async loop(): Promise<void> {
    if (this.stopReason !== undefined) this.channel.close();
    const dispatcher = this.dispatch();
    const samplers = Array.from({ length: this.config.num_samplers }, (_, index) => this.sampleLoop(index));
    await Promise.all(samplers);
    this.channel.close();
    await dispatcher;
    for (const sample of this.channel.drain()) this.emitNotEvaluated(sample);
    this.updateElapsed();
    // Samplers that ran out of prompts stop the run without a request: that is the sample budget.
    this.stopReason ??= 'total-llm-samples';
  }

  private shouldStop(index: number): boolean {
    this.checkBudget();
    if (this.stopReason !== undefined) return true;
    return !samplerHasPrompts(this.config, this.stats, index);
  }

  private async sampleLoop(index: number): Promise<void> {
    const perPrompt = this.config.samples_per_prompt;
    while (!this.shouldStop(index)) {
      // Room first: an answer the run paid for never waits outside the queue.
      if (!(await this.channel.reserve(perPrompt))) return;
      if (this.shouldStop(index)) {
        this.channel.release(perPrompt);
        return;
      }
      const prompt = this.database!.getPrompt();
      this.stats.prompts++;
      this.stats.promptsPerSampler[index] = (this.stats.promptsPerSampler[index] ?? 0) + 1;
      // As the original: the samples of one prompt are requested together; each goes on as it arrives.
      await Promise.all(
        Array.from({ length: perPrompt }, async () => {
          const sample = await this.drawSample(prompt);
          if (!sample) {
            this.channel.release();
            return;
          }
          this.drawnNotEvaluated++;
          this.maxDrawnNotEvaluated = Math.max(this.maxDrawnNotEvaluated, this.drawnNotEvaluated);
          if (!this.channel.put(sample)) this.emitNotEvaluated(sample);
        }),
      );
    }
  }

  private async drawSample(prompt: Prompt): Promise<Sample | undefined> {
    const { llm } = this.options;
    const stats = this.stats;
    const started = this.clock.now();
    try {
      const completion = await llm.generate(prompt.code, this.samplesAbort.signal);
      const now = this.clock.now();
      stats.samplesOk++;
      stats.llmLatencyTotalMs += now - started;
      stats.inputTokens += completion.usage?.inputTokens ?? 0;
      stats.outputTokens += completion.usage?.outputTokens ?? 0;
      stats.costUsd += this.costOf(completion);
      this.consecutiveLlmFailures = 0;
      stats.lastSampleId++;
      return {
        id: `s${stats.lastSampleId}`,
        text: completion.text,
        prompt,
        completion,
        llmLatencyMs: now - started,
        drawnAt: now,
      };
    } catch (error) {
      if (this.samplesAbort.signal.aborted) return undefined;
      stats.samplesFailed++;
      this.consecutiveLlmFailures++;
      const message = (error as Error)?.message ?? String(error);
      this.logger.warn({ error: message }, 'LLM sample failed after retries');
      this.emit({
        ...this.eventBase(prompt),
        // A mix says which of its models lost the sample.
        ...(isLlmApiError(error) && error.model ? { model: error.model } : {}),
        outcome: 'llm-error',
        reason: message.slice(0, 500),
        llmLatencyMs: this.clock.now() - started,
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

  /** USD for one completion at the price of the model that answered; 0 when unknown. */
  private costOf(completion: Completion): number {
    const model = completion.model ?? modelName(this.options.llm);
    const price = this.options.prices?.priceOf(model.slice(model.indexOf(':') + 1));
    return costOfUsage(price, completion.usage) ?? 0;
  }

  /** Enough consecutive failures that no in-flight batch can explain them: the provider is down. */
  private failureLimit(): number {
    return Math.max(10, 2 * this.config.num_samplers * this.config.samples_per_prompt);
  }

  /** Takes a slot, then a sample: a sample leaves the queue only when a sandbox can run it. */
  private async dispatch(): Promise<void> {
    const running = new Set<Promise<void>>();
    for (;;) {
      if (!(await this.slots.acquire())) break;
      const sample = await this.channel.take();
      if (sample === undefined) {
        this.slots.release();
        break;
      }
      const lease = new SlotLease(this.slots);
      const evaluation = this.evaluateInSlot(sample, lease).finally(() => {
        lease.release();
        running.delete(evaluation);
      });
      running.add(evaluation);
    }
    await Promise.all(running);
  }

  private async evaluateInSlot(sample: Sample, lease: SlotLease): Promise<void> {
    if (this.evaluationsAbort.signal.aborted) {
      this.emitNotEvaluated(sample);
      return;
    }
    try {
      await this.evaluateSample(sample, lease);
    } catch (error) {
      if (
        !(this.evaluationsAbort.signal.aborted && this.fatal === undefined && this.stopReason !== undefined)
      ) {
        // Not a candidate's fault (those are outcomes): the sandbox itself broke. Stop and say why.
        this.fail(error);
      }
      this.emitNotEvaluated(sample);
    }
  }

  private async evaluateSample(sample: Sample, lease: SlotLease): Promise<void> {
    const database = this.database!;
    const stats = this.stats;
    const { prompt } = sample;
    const started = this.clock.now();
    const { result, reused } = await this.evaluateCandidate(sample, lease);
    const evaluationMs = this.clock.now() - started;
    const sandboxMs =
      result.status === 'evaluated' && !reused
        ? result.outcomes.reduce((sum, o) => sum + o.outcome.durationMs, 0)
        : 0;
    this.drawnNotEvaluated--;
    stats.evaluations++;
    stats.evaluationTotalMs += sandboxMs;
    if (reused) {
      stats.cacheHits++;
      stats.sandboxMsSaved += reused.savedMs;
    } else if (result.status === 'evaluated') stats.sandboxRuns++;
    countOutcome(stats, result.kind);
    const event: SampleEvent = {
      ...this.eventBase(prompt, sample),
      outcome: result.kind,
      llmLatencyMs: sample.llmLatencyMs,
      queueMs: started - sample.drawnAt,
      evaluationMs,
      sandboxMs,
      ...(reused ? { cached: true, ...(reused.origin ? { cachedFrom: reused.origin } : {}) } : {}),
      inputTokens: sample.completion.usage?.inputTokens,
      outputTokens: sample.completion.usage?.outputTokens,
    };
    let improved = false;
    if (result.status === 'evaluated' && result.scoresPerTest) {
      const islandBest = database.islandStats()[prompt.islandId]?.bestScore ?? Number.NEGATIVE_INFINITY;
      const registration = database.registerProgram(
        result.fn,
        prompt.islandId,
        prompt.islandGeneration,
        result.scoresPerTest,
      );
      event.score = registration.score;
      event.scoresPerTest = Object.fromEntries(result.scoresPerTest);
      event.registered = registration.registered;
      event.newBest = registration.newBest;
      improved = registration.registered && registration.score > islandBest;
      if (registration.reset) {
        event.resetIslands = registration.reset.resetIslandIds;
        event.resetFounders = registration.reset.founderIslandIds;
      }
      if (registration.newBest)
        this.logger.info({ score: registration.score, island: prompt.islandId }, 'new best program');
    } else {
      event.reason = describeFailure(result).slice(0, 500);
      this.logger.debug({ outcome: result.kind, reason: event.reason }, 'candidate failed');
    }
    this.models.feedback(sample.completion.model, improved);
    this.emit(event);
    this.checkpointIfDue();
  }

  /**
   * The sample's result: rejected before the sandbox, reused from the evaluation cache (a repeat of
   * a program already run, or running), or run in the sandbox. A repeat waiting for a running copy
   * gives its slot to another sample and holds a place in the queue instead, so samples drawn and
   * not evaluated stay within `depth + capacity`; if that copy fails it takes a slot again to run.
   */
  private async evaluateCandidate(
    sample: Sample,
    lease: SlotLease,
  ): Promise<{ result: CandidateResult; reused?: { origin?: string; savedMs: number } }> {
    const candidate = this.evaluator.build(sample.text, sample.prompt.versionGenerated);
    if ('status' in candidate) return { result: candidate };
    const signal = this.evaluationsAbort.signal;
    const run = () => this.evaluator.runBatch(candidate.program, { signal, id: sample.id });
    if (!this.cache) return { result: this.evaluator.result(candidate.fn, candidate.program, await run()) };
    let place: { done: () => void } | undefined;
    try {
      const got = await this.cache.evaluate(
        candidate.program,
        async () => {
          // Running it after all (the copy it waited for failed): the slot first, the queue place back.
          place?.done();
          place = undefined;
          return (await lease.retake()) ? run() : undefined;
        },
        {
          origin: sample.id,
          onWait: () => {
            place ??= this.lendSlot(lease);
          },
        },
      );
      if (!got) throw signal.reason ?? new Error('the run stopped before this sample could be evaluated');
      const result = this.evaluator.result(candidate.fn, candidate.program, got.outcomes);
      return got.source !== 'sandbox'
        ? { result, reused: { ...(got.origin ? { origin: got.origin } : {}), savedMs: got.savedMs } }
        : { result };
    } finally {
      place?.done();
    }
  }

  /**
   * Swaps an evaluation's slot for a place in the queue (or, once the queue is closed and nothing
   * more is drawn, for nothing). `done` gives the place back.
   */
  private lendSlot(lease: SlotLease): { done: () => void } {
    let finished = false;
    let holding = false;
    void this.channel.reserve(1).then((granted) => {
      if (finished) {
        if (granted) this.channel.release(1);
        return;
      }
      holding = granted;
      lease.release();
    });
    return {
      done: () => {
        finished = true;
        if (holding) this.channel.release(1);
        holding = false;
      },
    };
  }

  /** The cache of this session, restored from the checkpoint when it can be. */
  private openCache(checkpoint: Checkpoint | undefined): EvalCache | undefined {
    const { enabled, max_entries } = this.config.eval_cache;
    if (!enabled) return undefined;
    const { spec, inputs } = this.options;
    // Besides the program, what decides an outcome: a change of any of these makes cached outcomes stale.
    const context = contextFingerprint({
      functionToRun: spec.functionToRun,
      inputs: inputs.map((input) => input.text),
      timeout: this.config.timeout,
      sandbox: this.config.sandbox,
      image: this.config.docker_image,
    });
    const options = { maxEntries: max_entries, context };
    const saved = checkpoint?.extras?.[EVAL_CACHE_EXTRA];
    if (saved === undefined) return new EvalCache(options);
    const { cache, note } = EvalCache.restore(saved, options);
    if (note) this.logger.warn({}, note);
    else this.logger.info({ entries: cache.size }, 'evaluation cache restored from the checkpoint');
    return cache;
  }

  private emitNotEvaluated(sample: Sample): void {
    this.drawnNotEvaluated--;
    this.stats.notEvaluated++;
    this.emit({
      ...this.eventBase(sample.prompt, sample),
      outcome: 'not-evaluated',
      reason: `run stopped (${this.stopReason ?? 'stop'}) before this sample was evaluated`,
      llmLatencyMs: sample.llmLatencyMs,
    });
  }

  private emit(event: SampleEvent): void {
    this.models.record(event);
    this.store.appendEvent(event);
    this.options.onEvent?.(event);
  }

  private eventBase(prompt: Prompt | null, sample?: Sample): SampleEvent {
    this.updateElapsed();
    return {
      ...(sample ? { sample: sample.id } : {}),
      time: new Date().toISOString(),
      elapsedMs: Math.round(this.stats.elapsedMs),
      island: prompt?.islandId ?? null,
      islandGeneration: prompt?.islandGeneration ?? null,
      version: prompt?.versionGenerated ?? null,
      model: sample?.completion.model ?? modelName(this.options.llm),
      outcome: '',
    };
  }

  private requestStop(reason: StopReason): void {
    if (this.stopReason === undefined) this.stopReason = reason;
    if (reason === 'interrupted' || reason === 'error' || reason === 'llm-failing') {
      this.samplesAbort.abort();
    }
    // A budget stop only ends new requests: samples already paid for still reach the evaluators.
    this.channel.close();
  }

  /** Aborts evaluations in flight and gives up the queue (second stop, or the grace ran out). */
  private cancelEvaluations(): void {
    this.requestStop(this.stopReason ?? 'interrupted');
    this.evaluationsAbort.abort();
    this.slots.close();
    for (const sample of this.channel.drain()) this.emitNotEvaluated(sample);
  }

  private fail(error: unknown): void {
    if (this.fatal === undefined) this.fatal = error;
    this.requestStop(error instanceof LlmFailingError ? 'llm-failing' : 'error');
    this.cancelEvaluations();
  }

  private checkBudget(): void {
    if (this.stopReason !== undefined || !this.database) return;
    this.updateElapsed();
    const reason = budgetStopReason(this.config, this.stats, this.database.bestScore);
    if (reason) {
      this.logger.info({}, `stopping: budget ${reason} reached`);
      this.requestStop(reason);
    }
  }

  private tick(): void {
    this.checkBudget();
    const view = this.view();
    if (view) this.options.onTick?.(view);
    this.checkpointIfDue();
  }

  private updateElapsed(): void {
    this.stats.elapsedMs = this.baseElapsedMs + (this.clock.now() - this.sessionStart);
  }

  private checkpointIfDue(): void {
    const database = this.database;
    if (!database) return;
    const { every_registrations, every_seconds } = this.config.checkpoint;
    const dueByCount = database.programsRegistered - this.registeredAtCheckpoint >= every_registrations;
    const dueByTime = this.clock.now() - this.lastCheckpointAt >= every_seconds * 1000;
    // Evaluators do not wait for the write; a failed write is logged and the next one tries again.
    if (dueByCount || dueByTime) {
      this.saveCheckpoint(false).catch((error) =>
        this.logger.error({ error: String(error) }, 'checkpoint failed'),
      );
    }
  }

  private saveCheckpoint(finished: boolean): Promise<void> {
    const database = this.database!;
    // Counted as done when scheduled, so evaluations finishing during the write do not queue more.
    this.lastCheckpointAt = this.clock.now();
    this.registeredAtCheckpoint = database.programsRegistered;
    // After a failed write the next one still runs (a rejected chain would skip every later write).
    this.checkpointing = this.checkpointing
      .catch(() => undefined)
      .then(async () => {
        this.updateElapsed();
        const checkpoint: Checkpoint = {
          format: 'funsearch-checkpoint',
          version: FORMAT_VERSIONS.checkpoint,
          savedAt: new Date().toISOString(),
          finished,
          stats: structuredClone(this.stats),
          database: database.toJSON(),
          extras: {
            models: this.models.toJSON(),
            ...(this.cache ? { [EVAL_CACHE_EXTRA]: this.cache.toJSON() } : {}),
          },
        };
        await this.store.writeCheckpoint(checkpoint);
        await this.store.writeReports(buildReports(this.summaryContext()));
        // The page reads all of events.jsonl (most of a second at 100 000 samples): at most once a
        // minute while running, and always at the end. It is a view: failing to draw it must not stop the run.
        const now = this.clock.now();
        if (this.status !== 'running' || now - this.lastPageAt >= HTML_REPORT_INTERVAL_MS) {
          this.lastPageAt = now;
          await this.store
            .writeReportPage()
            .catch((error) => this.logger.warn({ error: String(error) }, 'writing report.html failed'));
        }
      });
    return this.checkpointing;
  }

  private summaryContext() {
    return {
      config: this.config,
      database: this.database!,
      stats: this.stats,
      status: this.status,
      stopReason: this.stopReason,
      evalCache: this.cache && {
        entries: this.cache.size,
        maxEntries: this.cache.maxEntries,
        evictions: this.cache.evictions,
      },
      error: this.fatal === undefined ? undefined : errorMessage(this.fatal),
      model: modelName(this.options.llm),
      models: this.models.summary(),
      specFile: this.options.spec.specFile ?? '',
      testInputs: this.options.inputs.map((input) => input.text),
      startedAt: this.startedAt,
      concurrency: this.concurrency(),
    };
  }

  private concurrency(): Summary['concurrency'] {
    const workers = this.options.sandbox.status?.().workers;
    return {
      capacity: this.slots.limit,
      channelDepth: this.channel.capacity,
      maxDrawnNotEvaluated: this.maxDrawnNotEvaluated,
      ...(workers ? { workers } : {}),
    };
  }

  /** On every path: the sandbox closed, the last checkpoint and reports written, the store closed. */
  private async finish(): Promise<void> {
    await this.options.sandbox
      .close()
      .catch((error) => this.logger.error({ error: String(error) }, 'closing the sandbox failed'));
    if (!this.opened || !this.database) {
      // Nothing started: leave nothing behind.
      await this.store.discard().catch(() => undefined);
      return;
    }
    if (this.status === 'running') this.status = 'failed';
    await this.checkpointing.catch(() => undefined);
    await this.saveCheckpoint(this.status === 'finished').catch((error) =>
      this.logger.error({ error: String(error) }, 'final checkpoint failed'),
    );
    await this.store.close();
  }

  private result(): RunResult {
    const database = this.database!;
    const best = database.bestRecord;
    const { counts } = buildSummary(this.summaryContext());
    return {
      status: this.status as RunResult['status'],
      stopReason: this.stopReason ?? 'error',
      bestScore: best ? best.score : null,
      bestProgram: best
        ? database.template.withFunction(database.functionToEvolve, best.program).toString()
        : null,
      counts,
      concurrency: this.concurrency(),
      runDir: this.store.dir,
      ...(this.fatal === undefined ? {} : { error: this.fatal }),
    };
  }
}

/**
 * The depth of the one queue: one round of prompts (every sampler's samples), so each sampler can
 * have a request out while the evaluators work through the round before.
 */
export function channelDepth(config: Config): number {
  return config.num_samplers * config.samples_per_prompt;
}

function modelName(llm: LanguageModel): string {
  return `${llm.provider}:${llm.modelId}`;
}

function errorMessage(error: unknown): string {
  return String((error as Error)?.message ?? error);
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
