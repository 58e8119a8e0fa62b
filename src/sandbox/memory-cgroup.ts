/**
 * A memory cgroup per bwrap harness, where this process may make one (root, with the memory
 * controller in reach): the limit then holds for the harness and every process a candidate forks
 * together, as a container's does, instead of per process only. Elsewhere there is none, and the
 * bwrap sandbox says so at start.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../logger.js';
import { pidAlive } from '../pid-alive.js';

export interface MemoryCgroup {
  /** The file a process writes its pid to, to join the cgroup (and take its children with it). */
  readonly procsFile: string;
  /** Removes the cgroup once its processes are gone (waiting a little for them); never throws. */
  remove(): Promise<void>;
}

interface Hierarchy {
  /** The directory of this process's own memory cgroup; new ones are made under it. */
  parent: string;
  version: 1 | 2;
}

let hierarchy: Hierarchy | null | undefined;
let counter = 0;

/** Where this process can make memory cgroups, or null (not root, no controller, not delegated). */
export function memoryCgroupHierarchy(): Hierarchy | null {
  if (hierarchy !== undefined) return hierarchy;
  hierarchy = findHierarchy();
  if (hierarchy) sweepLeftovers(hierarchy.parent);
  return hierarchy;
}

function findHierarchy(): Hierarchy | null {
  if (process.getuid?.() !== 0) return null;
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  } catch {
    return null;
  }
  // cgroup v1: a `N:memory:/path` line and the controller mounted at /sys/fs/cgroup/memory.
  const v1 = lines
    .map((line) => line.split(':'))
    .find(([, controllers]) => controllers?.split(',').includes('memory'));
  if (v1) {
    const parent = join('/sys/fs/cgroup/memory', v1[2] ?? '/');
    return writable(parent) && existsSync(join(parent, 'memory.limit_in_bytes'))
      ? { parent, version: 1 }
      : null;
  }
  // cgroup v2: usable only where memory is already enabled for our children (a delegated subtree).
  const v2 = lines.find((line) => line.startsWith('0::'));
  if (!v2) return null;
  const parent = join('/sys/fs/cgroup', v2.slice(3));
  try {
    const enabled = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
    return enabled.includes('memory') && writable(parent) ? { parent, version: 2 } : null;
  } catch {
    return null;
  }
}

function writable(dir: string): boolean {
  const probe = join(dir, `funsearch-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** A new cgroup capped at `limitBytes` of memory and no swap beyond it, or undefined where none can be made. */
export function createMemoryCgroup(limitBytes: number, logger?: Logger): MemoryCgroup | undefined {
  const where = memoryCgroupHierarchy();
  if (!where) return undefined;
  const dir = join(where.parent, `funsearch-bwrap-${process.pid}-${++counter}`);
  try {
    mkdirSync(dir);
    if (where.version === 1) {
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      // memsw (memory + swap) exists only where swap accounting is on.
      const memsw = join(dir, 'memory.memsw.limit_in_bytes');
      if (existsSync(memsw)) writeFileSync(memsw, String(limitBytes));
    } else {
      writeFileSync(join(dir, 'memory.max'), String(limitBytes));
      const swap = join(dir, 'memory.swap.max');
      if (existsSync(swap)) writeFileSync(swap, '0');
    }
  } catch (error) {
    logger?.warn({ err: error, cgroup: dir }, 'could not make a memory cgroup for the bwrap harness');
    removeDir(dir);
    return undefined;
  }
  return { procsFile: join(dir, 'cgroup.procs'), remove: () => removeWhenEmpty(dir) };
}

/** A cgroup can be removed only once its last process is reaped, which may trail the kill a little. */
async function removeWhenEmpty(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 40; attempt++) {
    if (removeDir(dir)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function removeDir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** Cgroups of funsearch processes that died without removing theirs (kill -9). */
function sweepLeftovers(parent: string): void {
  for (const name of readdirSync(parent)) {
    const pid = Number(/^funsearch-bwrap-(\d+)-\d+$/.exec(name)?.[1]);
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    const dir = join(parent, name);
    try {
      // Anything still inside belongs to a dead run's sandbox: end it, then remove the cgroup.
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        if (line) process.kill(Number(line), 'SIGKILL');
      }
    } catch {
      // Gone meanwhile.
    }
    removeDir(dir);
  }
}

/** `argv` run by a shell that first joins the cgroup, so nothing it starts escapes the limit. */
export function inCgroup(cgroup: MemoryCgroup, argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', cgroup.procsFile, ...argv];
}
