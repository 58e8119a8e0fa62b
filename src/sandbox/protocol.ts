/**
 * The wire between the host and one harness (harness.py): frames of a 4-byte big-endian length
 * and UTF-8 JSON, in both directions. Replies are size-capped, strictly decoded (fatal UTF-8,
 * JSON only) and checked against a schema; anything else ends the connection.
 */

import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { z } from 'zod';
import type { SandboxConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { OUTCOME_KINDS } from './sandbox.js';

export const PROTOCOL_VERSION = 1;
/** Largest reply frame accepted from a harness (its replies are a few KiB). */
export const MAX_REPLY_FRAME_BYTES = 1024 * 1024;

/** One outcome as a harness (or a queue worker) reports it; `toOutcome` (score.ts) makes it an Outcome. */
export const wireOutcomeSchema = z
  .object({
    kind: z.enum(OUTCOME_KINDS),
    durationMs: z.number().nonnegative(),
    stderr: z.string(),
    reason: z.string().optional(),
    score: z.number().optional(),
    scoreType: z.enum(['int', 'float']).optional(),
  })
  .strict();

const readySchema = z
  .object({
    type: z.literal('ready'),
    protocol: z.literal(PROTOCOL_VERSION),
    pid: z.number().int(),
    python: z.string(),
    numpy: z.string().nullable(),
  })
  .strict();
const resultSchema = z
  .object({
    type: z.literal('result'),
    id: z.number().int(),
    outcomes: z.array(wireOutcomeSchema),
    clean: z.boolean(),
    cancelled: z.boolean(),
  })
  .strict();
const harnessMessageSchema = z.discriminatedUnion('type', [readySchema, resultSchema]);

export type ReadyMessage = z.infer<typeof readySchema>;
export type ResultMessage = z.infer<typeof resultSchema>;
export type JobMessage = {
  type: 'job';
  id: number;
  program: string;
  function: string;
  inputs: readonly string[];
  timeout: number;
};
export type CancelMessage = { type: 'cancel'; id: number };

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

export function encodeFrame(message: JobMessage | CancelMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Splits a byte stream into decoded JSON frames. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(private readonly maxFrameBytes = MAX_REPLY_FRAME_BYTES) {}

  /** Returns the frames completed by `chunk`; throws ProtocolError on an oversized or invalid one. */
  push(chunk: Buffer): unknown[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: unknown[] = [];
    while (this.buffered >= 4) {
      const head = this.peek();
      const size = head.readUInt32BE(0);
      if (size > this.maxFrameBytes) {
        throw new ProtocolError(`reply frame of ${size} bytes exceeds ${this.maxFrameBytes}`);
      }
      if (head.length < 4 + size) break;
      const body = head.subarray(4, 4 + size);
      this.chunks = head.length > 4 + size ? [head.subarray(4 + size)] : [];
      this.buffered = head.length - 4 - size;
      let text: string;
      try {
        text = this.utf8.decode(body);
        frames.push(JSON.parse(text));
      } catch (error) {
        throw new ProtocolError(`undecodable reply frame: ${(error as Error).message}`);
      }
    }
    return frames;
  }

  private peek(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!;
  }
}

/** Harness diagnostics kept per connection (its own stderr, not the candidates'). */
const DIAGNOSTICS_BYTES = 16 * 1024;

/**
 * One harness process seen from the host: send jobs, receive one result per job. `closed` resolves (never rejects) with a reason once the harness can no longer answer.
 */
export class HarnessConnection {
  readonly ready: Promise<ReadyMessage>;
  readonly closed: Promise<string>;
  private listener: ((result: ResultMessage) => void) | undefined;
  private readonly closeListeners = new Set<(reason: string) => void>();
  private readonly decoder = new FrameDecoder();
  private resolveReady!: (message: ReadyMessage) => void;
  private rejectReady!: (error: Error) => void;
  private resolveClosed!: (reason: string) => void;
  private isReady = false;
  private closeReason: string | undefined;
  private protocolViolation: string | undefined;
  private diagnostics = '';

  constructor(
    private readonly stdin: Writable,
    stdout: Readable,
    stderr: Readable | undefined,
    private readonly name: string,
    private readonly logger?: Logger,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    // Listeners run as a reaction to `closed`, with the timing a `.then` of their own would have.
    void this.closed.then((reason) => {
      const listeners = [...this.closeListeners];
      this.closeListeners.clear();
      for (const listener of listeners) listener(reason);
    });
    stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    stdout.on('end', () => this.shutDown('the harness closed its output'));
    stdout.on('close', () => this.shutDown('the harness closed its output'));
    stdout.on('error', (error) => this.shutDown(`harness output failed: ${error.message}`));
    stdin.on('error', (error) => this.shutDown(`harness input failed: ${error.message}`));
    stderr?.on('data', (chunk: Buffer) => {
      if (this.diagnostics.length >= DIAGNOSTICS_BYTES) return;
      const text = chunk.toString('utf8');
      this.diagnostics += text.slice(0, DIAGNOSTICS_BYTES - this.diagnostics.length);
      this.logger?.debug({ worker: this.name, harnessStderr: text.slice(0, 2000) }, 'harness diagnostics');
    });
  }

  get isClosed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Set when the connection ended because the harness broke the protocol. */
  get violation(): string | undefined {
    return this.protocolViolation;
  }

  /** What the harness wrote to its own stderr (its tracebacks, if it crashed), capped. */
  get harnessStderr(): string {
    return this.diagnostics;
  }

  /** The last line of `harnessStderr` (what an error says about a harness that failed), if any. */
  get lastStderrLine(): string | undefined {
    return this.diagnostics.trim().split('\n').at(-1) || undefined;
  }

  /** ` — <lastStderrLine>`, or nothing: the tail of a message that the harness did not start. */
  get lastStderrSuffix(): string {
    const last = this.lastStderrLine;
    return last ? ` — ${last}` : '';
  }

  /** Routes results to one receiver (the job in flight). */
  setListener(listener: ((result: ResultMessage) => void) | undefined): void {
    this.listener = listener;
  }

  /**
   * Calls `listener` once when the connection closes (at once if it is closed). Unlike a `.then` on
   * `closed`, the returned unsubscribe lets a finished job drop its listener, so a long-lived
   * connection does not keep every job's closure (and program text) alive.
   */
  onClose(listener: (reason: string) => void): () => void {
    if (this.closeReason !== undefined) {
      let active = true;
      void this.closed.then((reason) => active && listener(reason));
      return () => {
        active = false;
      };
    }
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  send(message: JobMessage | CancelMessage): void {
    if (this.isClosed) return;
    this.stdin.write(encodeFrame(message));
  }

  /** Marks the connection dead (the caller kills the process behind it). */
  shutDown(reason: string): void {
    if (this.closeReason !== undefined) return;
    this.closeReason = reason;
    this.logger?.debug({ worker: this.name, reason }, 'harness connection closed');
    if (!this.isReady)
      this.rejectReady(new ProtocolError(`harness ${this.name} ended before ready: ${reason}`));
    this.resolveClosed(reason);
  }

  /** Ends the connection for a protocol violation (the worker behind it is then replaced). */
  breach(detail: string): void {
    if (this.isClosed) return;
    this.protocolViolation = `sandbox protocol error: ${detail}`;
    this.logger?.error({ worker: this.name, detail }, 'sandbox protocol error');
    this.shutDown(this.protocolViolation);
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    let frames: unknown[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.breach((error as Error).message);
      return;
    }
    for (const frame of frames) {
      const parsed = harnessMessageSchema.safeParse(frame);
      if (!parsed.success) {
        this.breach(`unexpected reply ${JSON.stringify(frame).slice(0, 200)}`);
        return;
      }
      const message = parsed.data;
      if (message.type === 'ready') {
        this.isReady = true;
        this.resolveReady(message);
      } else {
        this.listener?.(message);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Starting a harness: its source travels as a `-c` argument, so changing harness.py needs no
// image rebuild.

let cachedSource: string | undefined;

/** harness.py, from src/sandbox (development) or dist/sandbox (installed; copied at build). */
export function harnessSource(): string {
  cachedSource ??= readFileSync(new URL('./harness.py', import.meta.url), 'utf8');
  return cachedSource;
}

/** Characters of a candidate's stderr the harness keeps per input. */
export const HARNESS_STDERR_KEEP = 4096;

/** The remedy when the host has no `python3` for the sandboxes that run the harness on the host. */
export const PYTHON_NOT_FOUND =
  'python3 not found on PATH: install Python 3 with numpy, or use --sandbox docker';

/**
 * What a harness imports before forking candidates when its creator names nothing (a worker, which
 * serves runs of any spec; a sandbox made by hand): numpy, which most specs import.
 */
export const DEFAULT_PRELOAD: readonly string[] = ['numpy'];

/** How long a fresh harness may take to say ready: its start is mostly the spec's imports. */
export const READY_TIMEOUT_MS = 60_000;

/** Why a harness that never said ready did not start, naming what it imports before. */
export function notReadyReason(timeoutMs: number, preload: readonly string[] | undefined): string {
  const imports = preload ?? DEFAULT_PRELOAD;
  const before = imports.length > 0 ? ` (it imports ${imports.join(', ')} before it is ready)` : '';
  return `not ready within ${timeoutMs / 1000} s${before}`;
}

/** The command line that starts a harness in `mode` with the limits of `sandbox`. */
export function harnessCommand(
  mode: 'container' | 'process',
  sandbox: SandboxConfig,
  extra: { workRoot?: string; preload?: readonly string[] | undefined } = {},
): string[] {
  const config = {
    memory_bytes: sandbox.memory_mb * 1024 * 1024,
    fsize_bytes: sandbox.tmpfs_mb * 1024 * 1024,
    pids_limit: sandbox.pids_limit,
    output_limit: sandbox.output_limit_bytes,
    stderr_keep: HARNESS_STDERR_KEEP,
    work_root: extra.workRoot ?? '/tmp',
    preload: extra.preload ?? DEFAULT_PRELOAD,
  };
  // -I: ignore PYTHON* variables and the user's site directory.
  return ['python3', '-I', '-c', harnessSource(), mode, JSON.stringify(config)];
}
