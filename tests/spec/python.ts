import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PythonRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `code` with the host's python3 from a temporary file (removed afterwards). */
export function runPython(code: string, input?: string): PythonRun {
  const dir = mkdtempSync(join(tmpdir(), 'funsearch-spec-'));
  try {
    const file = join(dir, 'program.py');
    writeFileSync(file, code);
    const run = spawnSync('python3', [file], {
      encoding: 'utf8',
      timeout: 30_000,
      input,
      env: { PATH: process.env.PATH },
    });
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Python's own verdict (`ast.parse`) on each snippet: true when it parses. */
export function pythonAccepts(snippets: readonly string[]): boolean[] {
  const run = runPython(
    [
      'import ast, json, sys',
      'out = []',
      'for s in json.load(sys.stdin):',
      '    try:',
      '        ast.parse(s)',
      '        out.append(True)',
      '    except SyntaxError:',
      '        out.append(False)',
      'print(json.dumps(out))',
    ].join('\n'),
    JSON.stringify(snippets),
  );
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as boolean[];
}
