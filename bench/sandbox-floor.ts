/**
 * The sandbox's per-candidate cost against the floor (bench/floor.ts), side by side: rounds of
 * the floor, the warm Docker pool and the process sandbox, each on the same valid cap_set
 * candidates (inputs 3 and 4), with the pools kept full. Interleaving the rounds keeps a change in
 * the machine's load from favouring one of them. Prints per round and the median over rounds:
 * wall ms per candidate, CPU ms and minor page faults per candidate (a fault costs tens of
 * microseconds on these VMs, so faults explain most of the gap), and the ratios to the floor.
 *
 * npm run bench:floor   (env: BENCH_ROUNDS=3, BENCH_CANDIDATES=120, BENCH_IMAGE=funsearch-base:local,
 *                        BENCH_PROCESS=1 to include the process sandbox)
 */
import { parseConfig } from '../src/config.js';
import { DockerSandbox } from '../src/sandbox/docker-pool.js';
import { ProcessSandbox } from '../src/sandbox/process.js';
import type { Sandbox } from '../src/sandbox/sandbox.js';
import { CAP_SET_INPUTS, capSetPrograms } from './candidates.js';
import { engineCpuMs, sessionUsage } from './cgroup.js';
import { floorMs, measureFloor } from './floor.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CANDIDATES = Number(process.env.BENCH_CANDIDATES ?? 120);
const IMAGE = process.env.BENCH_IMAGE ?? 'funsearch-base:local';
const WITH_PROCESS = (process.env.BENCH_PROCESS ?? '1') !== '0';

interface Row {
  ms: number;
  cpuMs?: number | undefined;
  faults?: number | undefined;
  /** CPU ms per candidate of this Node process (the pool, the protocol). */
  nodeMs?: number | undefined;
  /** CPU ms per candidate of dockerd, containerd and the shims (the Docker pool only). */
  engineMs?: number | undefined;
}

const programs = capSetPrograms(CANDIDATES, { validOnly: true });

async function measureSandbox(sandbox: Sandbox): Promise<Row> {
  const before = await sessionUsage(sandbox);
  const engineBefore = engineCpuMs();
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const results = await Promise.all(
    programs.map((program) =>
      sandbox.runBatch({
        program,
        functionToRun: 'evaluate',
        testInputs: CAP_SET_INPUTS,
        timeoutSeconds: 10,
      }),
    ),
  );
  const ms = (performance.now() - started) / programs.length;
  const node = process.cpuUsage(nodeBefore);
  const engineMs = (engineCpuMs() - engineBefore) / programs.length;
  const after = await sessionUsage(sandbox);
  const failed = results.filter((outcomes) => outcomes.some((o) => o.kind !== 'ok')).length;
  if (failed > 0) throw new Error(`${failed} valid candidates failed in the sandbox`);
  return {
    ms,
    nodeMs: (node.user + node.system) / 1000 / programs.length,
    ...(sandbox instanceof DockerSandbox ? { engineMs } : {}),
    ...(before && after
      ? {
          cpuMs: (after.cpuNs - before.cpuNs) / 1e6 / programs.length,
          faults: (after.faults - before.faults) / programs.length,
        }
      : {}),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function format(row: Row): string {
  const cpu = row.cpuMs === undefined ? '' : `  cpu ${row.cpuMs.toFixed(1).padStart(5)} ms`;
  const faults = row.faults === undefined ? '' : `  faults ${row.faults.toFixed(0).padStart(5)}`;
  const node = row.nodeMs === undefined ? '' : `  node cpu ${row.nodeMs.toFixed(1)} ms`;
  const engine = row.engineMs === undefined ? '' : `  engine cpu ${row.engineMs.toFixed(1)} ms`;
  return `${row.ms.toFixed(1).padStart(6)} ms/cand${cpu}${faults}${node}${engine}`;
}

async function main(): Promise<void> {
  const config = parseConfig({ docker_image: IMAGE });
  const sandboxes: [string, Sandbox][] = [['docker pool', new DockerSandbox({ config })]];
  if (WITH_PROCESS) sandboxes.push(['process sandbox', new ProcessSandbox({ config })]);
  try {
    for (const [, sandbox] of sandboxes) {
      await sandbox.start();
      await Promise.all(
        programs.slice(0, 8).map((program) =>
          sandbox.runBatch({
            program,
            functionToRun: 'evaluate',
            testInputs: CAP_SET_INPUTS,
            timeoutSeconds: 10,
          }),
        ),
      );
    }
    console.log(
      `sandbox vs floor: ${ROUNDS} rounds x ${CANDIDATES} valid cap_set candidates, inputs ${CAP_SET_INPUTS.join(',')}, ` +
        `pools of ${sandboxes.map(([, s]) => s.capacity).join('/')} workers, image ${IMAGE}`,
    );
    const rows = new Map<string, Row[]>([
      ['floor', []],
      ...sandboxes.map(([n]) => [n, []] as [string, Row[]]),
    ]);
    for (let round = 1; round <= ROUNDS; round++) {
      const floor = measureFloor(programs, CAP_SET_INPUTS);
      rows.get('floor')!.push({ ms: floorMs(floor), cpuMs: floor.cpuMs, faults: floor.faults });
      for (const [name, sandbox] of sandboxes) rows.get(name)!.push(await measureSandbox(sandbox));
      const floorRow = rows.get('floor')!.at(-1)!;
      console.log(`round ${round}`);
      for (const [name, list] of rows) {
        const row = list.at(-1)!;
        const ratio = name === 'floor' ? '' : `  = ${(row.ms / floorRow.ms).toFixed(2)}x the floor`;
        console.log(`  ${name.padEnd(16)} ${format(row)}${ratio}`);
      }
    }
    console.log('median over rounds (ratios are medians of the per-round ratios)');
    const floors = rows.get('floor')!;
    for (const [name, list] of rows) {
      const row: Row = {
        ms: median(list.map((r) => r.ms)),
        cpuMs: list.every((r) => r.cpuMs !== undefined) ? median(list.map((r) => r.cpuMs!)) : undefined,
        faults: list.every((r) => r.faults !== undefined) ? median(list.map((r) => r.faults!)) : undefined,
      };
      const ratio =
        name === 'floor'
          ? ''
          : `  = ${median(list.map((r, i) => r.ms / floors[i]!.ms)).toFixed(2)}x the floor`;
      console.log(`  ${name.padEnd(16)} ${format(row)}${ratio}`);
    }
  } finally {
    await Promise.all(sandboxes.map(([, s]) => s.close()));
  }
}

await main();
