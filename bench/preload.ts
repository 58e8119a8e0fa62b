/**
 * What preloading a spec's imports saves a candidate: one spec that imports scipy, networkx and
 * numpy at top level (the kind of spec a user writes beyond cap sets), run on the process sandbox
 * with the spec's imports preloaded (as `funsearch run` does) and with numpy only (as before the
 * preload), alternating, one worker each. Prints milliseconds per candidate
 * and the ratio. Needs host python3 with those modules; a module missing on the host is named and
 * the bench stops.
 *
 * npm run bench:preload
 * Environment: BENCH_CANDIDATES (default 40).
 */
import { spawnSync } from 'node:child_process';
import { parseConfig } from '../src/config.js';
import { createSandbox } from '../src/sandbox/index.js';
import { parseSpec } from '../src/spec/parse.js';
import { initParser } from '../src/spec/parser.js';

const CANDIDATES = Number(process.env.BENCH_CANDIDATES ?? 40);
const SPEC = `import itertools

import networkx as nx
import numpy as np
from scipy import optimize


@funsearch.run
def evaluate(n: int) -> float:
  graph = nx.path_graph(n)
  return float(sum(priority(v, n) for v in graph.nodes))


@funsearch.evolve
def priority(v: int, n: int) -> float:
  return float(optimize.minimize_scalar(lambda x: (x - v) ** 2).x + np.sqrt(n))
`;

const missing = ['scipy', 'networkx', 'numpy'].filter(
  (module) => spawnSync('python3', ['-c', `import ${module}`]).status !== 0,
);
if (missing.length > 0) {
  console.error(`bench:preload needs ${missing.join(', ')} in the host's python3`);
  process.exit(2);
}

await initParser();
const spec = parseSpec(SPEC, 'bench-spec.py');
const program = spec.program.toString();
const config = parseConfig({ sandbox: { memory_mb: 1024 } });

async function msPerCandidate(preload: readonly string[]): Promise<number> {
  const sandbox = createSandbox({ kind: 'process', config, poolSize: 1, preload });
  try {
    await sandbox.start();
    const started = performance.now();
    for (let i = 0; i < CANDIDATES; i++) {
      const [outcome] = await sandbox.runBatch({
        program,
        functionToRun: spec.functionToRun,
        testInputs: [String(5 + (i % 3))],
        timeoutSeconds: 30,
      });
      if (outcome?.kind !== 'ok') throw new Error(`candidate failed: ${JSON.stringify(outcome)}`);
    }
    return (performance.now() - started) / CANDIDATES;
  } finally {
    await sandbox.close();
  }
}

const best = { spec: Number.POSITIVE_INFINITY, numpy: Number.POSITIVE_INFINITY };
for (let round = 0; round < 2; round++) {
  best.spec = Math.min(best.spec, await msPerCandidate(spec.imports));
  best.numpy = Math.min(best.numpy, await msPerCandidate(['numpy']));
}
console.log(`spec imports: ${spec.imports.join(', ')}; ${CANDIDATES} candidates per run, best of 2`);
console.log(`preloaded (funsearch run):   ${best.spec.toFixed(1)} ms per candidate`);
console.log(`numpy only (before):        ${best.numpy.toFixed(1)} ms per candidate`);
console.log(`ratio preloaded / numpy only: ${(best.spec / best.numpy).toFixed(2)}`);
