/**
 * The run's logger: pino JSON lines into `run.log` (the store's log stream), and short human lines
 * on the terminal at `--log-level` (through the status block when there is one).
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../logger.js';

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export function createRunLogger(options: {
  /** run.log; omitted for commands that only print. */
  file?: Writable;
  terminalLevel: string;
  printLine: (line: string) => void;
}): Logger {
  const terminal = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) options.printLine(formatForTerminal(line));
      }
      callback();
    },
  });
  const fileLevel = levelValue(options.terminalLevel) < levelValue('info') ? options.terminalLevel : 'info';
  const streams: pino.StreamEntry[] = options.file
    ? [{ level: fileLevel as pino.Level, stream: options.file }]
    : [];
  if (options.terminalLevel !== 'silent')
    streams.push({ level: options.terminalLevel as pino.Level, stream: terminal });
  return pino(
    {
      level: lowest(options.file ? fileLevel : options.terminalLevel, options.terminalLevel),
      base: undefined,
    },
    pino.multistream(streams),
  );
}

function levelValue(level: string): number {
  return level === 'silent' ? Number.POSITIVE_INFINITY : (pino.levels.values[level] ?? 30);
}

function lowest(a: string, b: string): string {
  return levelValue(a) <= levelValue(b) ? a : b;
}

function formatForTerminal(line: string): string {
  try {
    const { level, time, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
    const clock = new Date(Number(time)).toISOString().slice(11, 19);
    const extra = Object.entries(fields)
      .filter(([key]) => key !== 'pid' && key !== 'hostname')
      .map(([key, value]) => `${key}=${terminalValue(value)}`)
      .join(' ');
    return `${clock} ${LEVEL_NAMES[Number(level)] ?? level} ${msg}${extra ? ` ${extra}` : ''}`;
  } catch {
    return line;
  }
}

/** Errors show their message on the terminal; run.log keeps the stack. */
function terminalValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
    return (value as { message: string }).message;
  }
  return JSON.stringify(value);
}
