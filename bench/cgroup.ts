/**
 * What the Docker sandbox's containers used, read from their cgroups (v1 or v2): CPU time and
 * minor page faults of the harnesses and every candidate they forked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { DockerClient } from '../src/sandbox/docker-client.js';
import { DockerSandbox } from '../src/sandbox/docker-pool.js';
import type { Sandbox } from '../src/sandbox/sandbox.js';

export interface Usage {
  cpuNs: number;
  faults: number;
}

function firstReadable(paths: string[]): string | undefined {
  for (const path of paths) {
    try {
      return readFileSync(path, 'utf8');
    } catch {}
  }
  return undefined;
}

/** A container's usage so far, or undefined where its cgroup files are not readable. */
function containerUsage(id: string): Usage | undefined {
  const v1Cpu = firstReadable([`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`]);
  const v2 = `/sys/fs/cgroup/system.slice/docker-${id}.scope`;
  const cpuNs =
    v1Cpu !== undefined
      ? Number(v1Cpu)
      : Number(/usage_usec (\d+)/.exec(firstReadable([`${v2}/cpu.stat`]) ?? '')?.[1]) * 1000;
  const memoryStat = firstReadable([`/sys/fs/cgroup/memory/docker/${id}/memory.stat`, `${v2}/memory.stat`]);
  const faults = Number(/^pgfault (\d+)/m.exec(memoryStat ?? '')?.[1]);
  return Number.isFinite(cpuNs) && Number.isFinite(faults) ? { cpuNs, faults } : undefined;
}

/** The summed usage of a Docker sandbox's containers (undefined for other sandboxes). */
export async function sessionUsage(sandbox: Sandbox): Promise<Usage | undefined> {
  if (!(sandbox instanceof DockerSandbox)) return undefined;
  const containers = await new DockerClient().listByLabel(`funsearch.run=${sandbox.sessionId}`);
  const total: Usage = { cpuNs: 0, faults: 0 };
  for (const c of containers) {
    const usage = containerUsage(c.Id);
    if (usage === undefined) return undefined;
    total.cpuNs += usage.cpuNs;
    total.faults += usage.faults;
  }
  return total;
}

const ENGINE_COMMANDS = new Set(['dockerd', 'containerd', 'containerd-shim', 'containerd-shim-runc-v2']);

/**
 * CPU milliseconds used so far by the Docker engine's processes (dockerd, containerd, the shims),
 * which relay every job and result between this process and the harnesses. Other sessions'
 * containers count too: meaningful when they are idle.
 */
export function engineCpuMs(): number {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let total = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!ENGINE_COMMANDS.has(command)) continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {}
  }
  return total;
}
