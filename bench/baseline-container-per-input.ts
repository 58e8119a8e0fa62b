/**
 * Benchmark baseline only: what the Python original does for every (candidate, test input) —
 * create a container running the program plus `print(fn(input))`, start it, wait, read its
 * logs, remove it — so the warm pool can be measured against it. Not used by funsearch itself.
 */
import type { DockerClient } from '../src/sandbox/docker-client.js';

export interface BaselineResult {
  ok: boolean;
  score?: number;
  error?: string;
}

/** The original's runnable file: the program without `@funsearch.` lines, then a print of the call. */
export function baselineScript(program: string, functionToRun: string, testInput: string): string {
  const lines = program.split('\n').filter((line) => !line.includes('@funsearch.'));
  return `${lines.join('\n')}\n\nif __name__ == '__main__':\n  print(${functionToRun}(${testInput}))\n`;
}

export async function runContainerPerInput(
  client: DockerClient,
  image: string,
  program: string,
  functionToRun: string,
  testInput: string,
  timeoutSeconds: number,
): Promise<BaselineResult> {
  const id = await client.createAndStart({
    Image: image,
    Cmd: ['python3', '-c', baselineScript(program, functionToRun, testInput)],
    Labels: { 'funsearch.bench': 'baseline' },
  });
  try {
    let timer: NodeJS.Timeout | undefined;
    const status = await Promise.race([
      client.wait(id),
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutSeconds * 1000);
      }),
    ]).finally(() => clearTimeout(timer));
    if (status === 'timeout') return { ok: false, error: 'timeout' };
    const { stdout } = await client.logs(id);
    if (status !== 0) return { ok: false, error: `exit ${status}` };
    const score = Number(stdout.trim());
    return Number.isFinite(score) ? { ok: true, score } : { ok: false, error: 'invalid output' };
  } finally {
    await client.remove(id);
  }
}
