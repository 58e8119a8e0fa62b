/**
 * The run's logger: pino JSON lines into `run.log` in the run directory, and short human lines on
 * the terminal at `--log-level` (through the status block when there is one).
 */
import { createWriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { RunLogger } from './funsearch.js';

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

export interface RunLoggerHandle {
  logger: RunLogger;
  /** Flushes and closes run.log. */
  close(): Promise<void>;
}

export function createRunLogger(options: {
  logFile: string;
  terminalLevel: string;
  printLine: (line: string) => void;
}): RunLoggerHandle {
  const file = createWriteStream(options.logFile, { flags: 'a' });
  const terminal = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line) options.printLine(formatForTerminal(line));
      }
      callback();
    },
  });
  const fileLevel = levelValue(options.terminalLevel) < levelValue('info') ? options.terminalLevel : 'info';
  const streams: pino.StreamEntry[] = [{ level: fileLevel as pino.Level, stream: file }];
  if (options.terminalLevel !== 'silent')
    streams.push({ level: options.terminalLevel as pino.Level, stream: terminal });
  const base = pino(
    { level: lowest(fileLevel, options.terminalLevel), base: undefined },
    pino.multistream(streams),
  );
  const adapt =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (fields) base[level](fields, message);
      else base[level](message);
    };
  return {
    logger: { debug: adapt('debug'), info: adapt('info'), warn: adapt('warn'), error: adapt('error') },
    close: () => new Promise((resolve) => file.end(resolve)),
  };
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
