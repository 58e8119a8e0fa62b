/**
 * Reads a run directory as it is on disk, whatever state the run is in: still going (summary.json
 * older than events.jsonl, the last event line half-written), interrupted, or resumed from a
 * checkpoint (events.jsonl appended by several sessions). Nothing here throws for a damaged file:
 * what cannot be read becomes a warning shown on the page, so a report is always possible.
 */
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { UserError } from '../errors.js';
import { type Summary, sampleEventSchema } from '../run/formats.js';
import type { PyFunction } from '../spec/program.js';

/** One event of events.jsonl, reduced to what the report draws (100 000 of them stay small). */
export interface RunEvent {
  /** Run time over every session, ms. */
  elapsedMs: number;
  /** Wall-clock time, ms since the epoch (NaN when the line had none). */
  wallMs: number;
  island: number | null;
  outcome: string;
  /** `provider:modelId` of the model that answered (absent in old logs and on the initial program). */
  model?: string;
  score?: number;
  registered?: boolean;
  newBest?: boolean;
  llmLatencyMs?: number;
  evaluationMs?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** The candidate's own sandbox time (0 for a repeat reused from the evaluation cache). */
  sandboxMs?: number;
  /** The run's sample id, and for a repeat reused from the evaluation cache, the sample it reused. */
  sample?: string;
  cached?: boolean;
  cachedFrom?: string;
  resetIslands?: number[];
  /** The surviving island that re-seeded each reset island, when the run recorded it. */
  resetFounders?: number[];
  /** The spec's own function, scored before sampling starts. */
  initial: boolean;
}

/** Optional all the way down through named fields; arrays and records keep their element types. */
type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? string extends keyof T
      ? T
      : { [K in keyof T]?: DeepPartial<T[K]> | undefined }
    : T;

/** summary.json (format in formats.ts) as the report reads it: any field may be missing in an old or partial file. */
export type RunSummary = DeepPartial<Summary>;

export interface CheckpointCluster {
  signature: number[];
  score: number;
  programs: PyFunction[];
}

/** The parts of checkpoint.json the report reads. */
export interface RunCheckpoint {
  savedAt?: string;
  finished?: boolean;
  database?: {
    functionToEvolve?: string;
    template?: { preface: string; functions: PyFunction[] };
    islands?: { generation: number; programCount: number; clusters: CheckpointCluster[] }[];
    best?: {
      score: number;
      program: PyFunction;
      scoresPerTest: [string | number, number][];
      islandId: number | null;
    } | null;
  };
}

export interface EventLogInfo {
  /** Lines that parsed as events (before superseded ones were dropped). */
  parsed: number;
  /** A last line without its newline that did not parse: the run was writing it. */
  partialLastLine: boolean;
  /** Other lines that did not parse (a crash mid-write followed by a resumed session). */
  corruptLines: number;
  /**
   * Events of a session that died after its last checkpoint: the resumed session restarted from
   * that checkpoint, so these are in neither its database nor its counters.
   */
  superseded: number;
  /** Where each session after the first began (resumes), as an index into `events`. */
  sessionStarts: number[];
}

export interface RunData {
  runDir: string;
  summary: RunSummary | null;
  config: Record<string, unknown> | null;
  checkpoint: RunCheckpoint | null;
  events: RunEvent[];
  eventLog: EventLogInfo;
  /** When summary.json was last written, and how many events came after it. */
  eventsAfterSummary: number;
  /** Problems met while reading, for the page. */
  warnings: string[];
}

/** Wall-clock time between two events beyond their run-time difference that means a new session. */
const SESSION_GAP_MS = 2000;

export async function readRun(runDir: string): Promise<RunData> {
  try {
    if (!(await stat(runDir)).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new UserError(
      `${runDir}: not a run directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const warnings: string[] = [];
  const [summary, config, checkpoint] = await Promise.all([
    readJson<RunSummary>(join(runDir, 'summary.json'), warnings),
    readJson<Record<string, unknown>>(join(runDir, 'config.json'), warnings),
    readJson<RunCheckpoint>(join(runDir, 'checkpoint.json'), warnings),
  ]);
  const { events, info } = await readEvents(join(runDir, 'events.jsonl'), warnings);
  if (!summary && !checkpoint && info.parsed === 0 && !config) {
    throw new UserError(
      `${runDir}: not a run directory (no summary.json, checkpoint.json, config.json or events.jsonl in it)`,
    );
  }
  const updatedAt = summary?.updatedAt ? Date.parse(summary.updatedAt) : Number.NaN;
  const eventsAfterSummary = Number.isFinite(updatedAt)
    ? events.filter((e) => e.wallMs > updatedAt).length
    : 0;
  return {
    runDir,
    summary,
    config: summary?.config ?? config,
    checkpoint,
    events,
    eventLog: info,
    eventsAfterSummary,
    warnings,
  };
}

async function readJson<T>(path: string, warnings: string[]): Promise<T | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') warnings.push(`${basenameOf(path)}: cannot read it (${code ?? error})`);
    return null;
  }
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as T;
    warnings.push(`${basenameOf(path)}: not a JSON object`);
  } catch (error) {
    warnings.push(`${basenameOf(path)}: not valid JSON (${(error as Error).message})`);
  }
  return null;
}

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Streams events.jsonl line by line (a long run's log is tens of megabytes) and drops events that
 * a resume superseded, so the run-time axis only goes forward.
 */
export async function readEvents(
  path: string,
  warnings: string[] = [],
): Promise<{ events: RunEvent[]; info: EventLogInfo }> {
  const info: EventLogInfo = {
    parsed: 0,
    partialLastLine: false,
    corruptLines: 0,
    superseded: 0,
    sessionStarts: [],
  };
  const events: RunEvent[] = [];
  let endsWithNewline = true;
  try {
    const { size } = await stat(path);
    if (size > 0) {
      const handle = await open(path, 'r');
      try {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        endsWithNewline = last[0] === 0x0a;
      } finally {
        await handle.close();
      }
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') warnings.push(`events.jsonl: cannot read it (${code ?? error})`);
    return { events, info };
  }

  const lines = createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let pending: string | undefined;
  const handleLine = (line: string, isLast: boolean) => {
    if (line.trim() === '') return;
    const event = parseEvent(line);
    if (!event) {
      if (isLast && !endsWithNewline) info.partialLastLine = true;
      else info.corruptLines++;
      return;
    }
    info.parsed++;
    append(events, event, info);
  };
  // One line of lookahead, so the last line is known as such when it is handled.
  for await (const line of lines) {
    if (pending !== undefined) handleLine(pending, false);
    pending = line;
  }
  if (pending !== undefined) handleLine(pending, true);
  if (info.corruptLines > 0) {
    warnings.push(`events.jsonl: ${info.corruptLines} line(s) are not valid events and were skipped`);
  }
  if (info.superseded > 0) {
    warnings.push(
      `events.jsonl: ${info.superseded} event(s) of a session that stopped after its last checkpoint are not shown: the resumed run restarted from that checkpoint`,
    );
  }
  return { events, info };
}

function append(events: RunEvent[], event: RunEvent, info: EventLogInfo): void {
  const previous = events[events.length - 1];
  if (previous) {
    const wentBack = event.elapsedMs < previous.elapsedMs;
    const wallGap = event.wallMs - previous.wallMs - (event.elapsedMs - previous.elapsedMs);
    if (wentBack || wallGap > SESSION_GAP_MS) {
      // A resume restarts from the checkpoint's run time: later events of the old session are gone.
      while (events.length > 0 && events[events.length - 1]!.elapsedMs > event.elapsedMs) {
        events.pop();
        info.superseded++;
      }
      while (
        info.sessionStarts.length > 0 &&
        info.sessionStarts[info.sessionStarts.length - 1]! >= events.length
      ) {
        info.sessionStarts.pop();
      }
      info.sessionStarts.push(events.length);
    }
  }
  events.push(event);
}

const lenientEventSchema = sampleEventSchema.partial().required({ outcome: true, elapsedMs: true });

function parseEvent(line: string): RunEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  // The one event format (formats.ts), read leniently: only the outcome and the run time are
  // required, so older or hand-made logs still draw; a field of the wrong type makes a corrupt line.
  const parsed = lenientEventSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  if (!Number.isFinite(r.elapsedMs)) return undefined;
  const event: RunEvent = {
    elapsedMs: r.elapsedMs,
    wallMs: r.time === undefined ? Number.NaN : Date.parse(r.time),
    island: r.island ?? null,
    outcome: r.outcome,
    initial: r.reason === 'initial program' && r.island === null,
  };
  if (r.score !== undefined && Number.isFinite(r.score)) event.score = r.score;
  if (r.model !== undefined && !event.initial) event.model = r.model;
  if (r.inputTokens !== undefined && Number.isFinite(r.inputTokens)) event.inputTokens = r.inputTokens;
  if (r.outputTokens !== undefined && Number.isFinite(r.outputTokens)) event.outputTokens = r.outputTokens;
  if (r.registered === true) event.registered = true;
  if (r.newBest === true) event.newBest = true;
  if (r.llmLatencyMs !== undefined) event.llmLatencyMs = r.llmLatencyMs;
  if (r.evaluationMs !== undefined) event.evaluationMs = r.evaluationMs;
  if (r.sandboxMs !== undefined) event.sandboxMs = r.sandboxMs;
  if (r.sample !== undefined) event.sample = r.sample;
  if (r.cached === true) event.cached = true;
  if (r.cachedFrom !== undefined) event.cachedFrom = r.cachedFrom;
  if (r.resetIslands) event.resetIslands = r.resetIslands;
  if (r.resetFounders) event.resetFounders = r.resetFounders;
  return event;
}
