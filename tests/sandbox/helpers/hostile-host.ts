/**
 * Host-side instruments of the hostile suite: finding candidate processes that outlived their job,
 * the secrets and `.env` a candidate must not see, and a loopback listener it must not reach.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Outcome } from '../../../src/sandbox/sandbox.js';
import type { Accept, CaseContext, Expectation, HostileCase, SandboxKind } from '../hostile-cases.js';

export interface TaggedProcess {
  pid: number;
  state: string;
}

/**
 * Live processes (any thread of which) carry `tag` (or one of the tags) as their name. Containers run on this host's
 * kernel, so this sees candidates inside containers too. Zombies count as gone: they hold no
 * resources and their parent or init reaps them.
 */
export function findTagged(tag: string | readonly string[]): TaggedProcess[] {
  const tags = new Set(typeof tag === 'string' ? [tag] : tag);
  const found: TaggedProcess[] = [];
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const tid of safeReaddir(`/proc/${entry}/task`)) {
      if (!tags.has(safeRead(`/proc/${entry}/task/${tid}/comm`)?.trim() ?? '')) continue;
      const state = processState(entry);
      if (state !== null && state !== 'Z' && state !== 'X') found.push({ pid: Number(entry), state });
      break;
    }
  }
  return found;
}

/** Waits (bounded) for tagged processes to disappear; returns those still alive at the end. */
export async function waitUntilGone(tag: string, graceMs = 3000): Promise<TaggedProcess[]> {
  const deadline = Date.now() + graceMs;
  let alive = findTagged(tag);
  while (alive.length > 0 && Date.now() < deadline) {
    await sleep(50);
    alive = findTagged(tag);
  }
  return alive;
}

/**
 * Kills, by pid, the tagged processes a failed case left behind, so one finding does not spoil the
 * cases after it. A fork bomb may still be forking: repeat until none is left (bounded).
 */
export async function killTagged(tag: string | readonly string[]): Promise<void> {
  for (let round = 0; round < 50; round++) {
    const alive = findTagged(tag);
    if (alive.length === 0) return;
    for (const { pid } of alive) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(20);
  }
}

/** Waits (bounded) for one process to be gone or a zombie; returns whether it is. */
export async function waitUntilDead(pid: number, graceMs = 3000): Promise<boolean> {
  const deadline = Date.now() + graceMs;
  const dead = () => ['Z', 'X', null].includes(processState(String(pid)));
  while (!dead() && Date.now() < deadline) await sleep(50);
  return dead();
}

/** Live descendants of `pid` (children, their children...), from the parent field of /proc/<pid>/stat. */
export function descendantsOf(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = safeRead(`/proc/${entry}/stat`);
    if (stat === null) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue;
    parentOf.set(Number(entry), Number(fields[1]));
  }
  const found: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const parent = stack.pop();
    for (const [child, of] of parentOf) {
      if (of === parent) {
        found.push(child);
        stack.push(child);
      }
    }
  }
  return found;
}

function processState(pid: string): string | null {
  const stat = safeRead(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The name field may hold spaces and parentheses; the state follows the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

function safeRead(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

const SECRET_ENV = {
  REPLICATE_API_TOKEN: 'r8_test_secret',
  OPENAI_API_KEY: 'sk-test-hostile-secret',
} as const;
const DOTENV_SECRET = 'dotenv-hostile-secret-9f3a';
const PLANTED_SECRET = 'planted-hostile-secret-5c1e';

/**
 * What a sandbox is created inside of: API tokens in the host's environment, a `.env` with a secret
 * in the host's working directory, world-readable files with a secret in the host user's home and
 * working directory, a listener on 127.0.0.1 that counts its connections. `setUp` before the
 * sandbox is created, `tearDown` after it is closed; both restore whatever was there before.
 */
export class HostileEnvironment {
  private savedEnv = new Map<string, string | undefined>();
  private dotenvCreated = false;
  private server: Server | null = null;
  private port = 0;
  private accepted = 0;
  readonly dotenvPath = join(process.cwd(), '.env');
  /** Unique names, so a real file is never touched; created by setUp, removed by tearDown. */
  readonly plantedPaths = [homedir(), process.cwd()].map((dir) =>
    join(dir, `.funsearch-hostile-${randomBytes(4).toString('hex')}`),
  );

  /** Connections the loopback listener has accepted so far. */
  get connectionsAccepted(): number {
    return this.accepted;
  }

  async setUp(): Promise<void> {
    for (const [name, value] of Object.entries(SECRET_ENV)) {
      this.savedEnv.set(name, process.env[name]);
      process.env[name] = value;
    }
    // Never overwrite a real .env; a candidate that can open an existing one fails the case anyway.
    // The variable name is one no other part of funsearch reads, so parallel tests are not affected.
    if (!existsSync(this.dotenvPath)) {
      writeFileSync(this.dotenvPath, `FUNSEARCH_HOSTILE_SECRET=${DOTENV_SECRET}\n`, { flag: 'wx' });
      this.dotenvCreated = true;
    }
    for (const path of this.plantedPaths) {
      writeFileSync(path, `${PLANTED_SECRET}\n`, { flag: 'wx', mode: 0o644 });
    }
    this.server = createServer((socket) => {
      this.accepted += 1;
      socket.end('hostile-listener\n');
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  async tearDown(): Promise<void> {
    for (const [name, value] of this.savedEnv) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    this.savedEnv.clear();
    if (this.dotenvCreated) rmSync(this.dotenvPath, { force: true });
    for (const path of this.plantedPaths) rmSync(path, { force: true });
    this.dotenvCreated = false;
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A fresh context (new token and process tag) for one case run. */
  context(sandbox: SandboxKind, memoryMb: number): CaseContext {
    const token = randomBytes(6).toString('hex');
    return {
      sandbox,
      token,
      tag: `hx${token}`, // 14 bytes: fits comm's 15
      hostPid: process.pid,
      secrets: [...Object.values(SECRET_ENV), DOTENV_SECRET],
      dotenvPath: this.dotenvPath,
      shadowDigest: shadowDigest(),
      loopbackPort: this.port,
      plantedPaths: this.plantedPaths,
      plantedSecret: PLANTED_SECRET,
      memoryMb,
    };
  }
}

function shadowDigest(): string | null {
  try {
    return createHash('sha256').update(readFileSync('/etc/shadow')).digest('hex');
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------

export function accepts(outcome: Outcome, expectation: Expectation): boolean {
  if (expectation === 'any') return true;
  return expectation.some((accept) => acceptsOne(outcome, accept));
}

function acceptsOne(outcome: Outcome, accept: Accept): boolean {
  if (outcome.kind !== accept.kind) return false;
  if (accept.score === undefined) return true;
  return outcome.kind === 'ok' && Object.is(outcome.score, accept.score);
}

export function formatExpectation(expectation: Expectation): string {
  if (expectation === 'any') return 'any outcome';
  return expectation.map((a) => (a.score === undefined ? a.kind : `${a.kind} ${a.score}`)).join(' or ');
}

export function formatOutcome(outcome: Outcome): string {
  const head = outcome.kind === 'ok' ? `ok ${outcome.score}` : `${outcome.kind} (${outcome.reason})`;
  const stderr = outcome.stderr.length > 400 ? `${outcome.stderr.slice(0, 400)}…` : outcome.stderr;
  return stderr ? `${head}; stderr: ${JSON.stringify(stderr)}` : head;
}

export const expectationFor = (c: HostileCase, kind: SandboxKind): Expectation =>
  c.bySandbox?.[kind] ?? c.expect;

/** A random input for the known-good job, so a stale result from an earlier job cannot pass. */
export const goodInput = (): number => randomInt(100, 100_000);
