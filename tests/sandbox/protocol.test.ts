/** The host side of the harness wire, score re-validation and the small pure helpers. */
import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { tarArchive } from '../../src/sandbox/docker-image.js';
import { isLeftover, poolSize } from '../../src/sandbox/docker-pool.js';
import {
  encodeFrame,
  FrameDecoder,
  HarnessConnection,
  harnessCommand,
  ProtocolError,
} from '../../src/sandbox/protocol.js';
import { MAX_EXACT_INT, scoreProblem, toOutcome } from '../../src/sandbox/score.js';
import { checkBatch, type HarnessWorker, WorkerPool } from '../../src/sandbox/worker-pool.js';

function frame(value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

describe('FrameDecoder', () => {
  it('reassembles frames split and merged across chunks', () => {
    const bytes = Buffer.concat([frame({ a: 1 }), frame({ b: [2, 3] }), frame('x')]);
    const decoder = new FrameDecoder();
    const seen: unknown[] = [];
    for (let i = 0; i < bytes.length; i += 3) seen.push(...decoder.push(bytes.subarray(i, i + 3)));
    expect(seen).toEqual([{ a: 1 }, { b: [2, 3] }, 'x']);
  });

  it('rejects an oversized frame before reading it', () => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(2 ** 31);
    expect(() => new FrameDecoder(1024).push(head)).toThrow(ProtocolError);
  });

  it('rejects invalid UTF-8 and non-JSON', () => {
    const bad = Buffer.from([0, 0, 0, 2, 0xc3, 0x28]);
    expect(() => new FrameDecoder().push(bad)).toThrow(ProtocolError);
    expect(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 3, 0x4e, 0x61, 0x4e]))).toThrow(ProtocolError); // NaN
  });

  it('round-trips what encodeFrame writes', () => {
    const message = { type: 'cancel', id: 7 } as const;
    expect(new FrameDecoder().push(encodeFrame(message))).toEqual([message]);
  });
});

describe('score re-validation', () => {
  it.each([
    [8, 'int', undefined],
    [0.5, 'float', undefined],
    [MAX_EXACT_INT, 'int', undefined],
    [MAX_EXACT_INT + 2, 'int', /2\*\*53/],
    [1.5, 'int', /not an integer/],
    [Number.NaN, 'float', /not finite/],
    [Number.POSITIVE_INFINITY, 'float', /not finite/],
    ['8', 'int', /string/],
    [undefined, 'float', /missing/],
    [3, 'bool', /unknown score type/],
  ])('%s as %s', (score, type, problem) => {
    const found = scoreProblem(score, type);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });

  it('turns an ok outcome with a bad score into invalid-score, and caps stderr', () => {
    const outcome = toOutcome(
      { kind: 'ok', durationMs: 1, stderr: 'e'.repeat(10_000), score: 2 ** 60, scoreType: 'int' },
      10,
    );
    expect(outcome.kind).toBe('invalid-score');
    expect(outcome.stderr.length).toBeLessThanOrEqual(4096);
  });

  it('keeps whether an ok score was an int or a float', () => {
    const wire = { kind: 'ok' as const, durationMs: 1, stderr: '', score: -212 };
    expect(toOutcome({ ...wire, scoreType: 'float' }, 10)).toMatchObject({ score: -212, scoreType: 'float' });
    expect(toOutcome({ ...wire, scoreType: 'int' }, 10)).toMatchObject({ score: -212, scoreType: 'int' });
  });

  it('ends a timeout reason with the --timeout flag and its value', () => {
    const wire = {
      kind: 'timeout' as const,
      durationMs: 2500,
      stderr: '',
      reason: 'exceeded its CPU-time limit',
    };
    expect(toOutcome(wire, 2.5)).toMatchObject({
      kind: 'timeout',
      reason:
        'exceeded its CPU-time limit; raise --timeout (now 2.5 s per input) if the candidate needs longer',
    });
  });
});

describe('helpers', () => {
  it('sizes the pool as min(num_evaluators, cpus), at least 1', () => {
    expect(poolSize(140, 2)).toBe(2);
    expect(poolSize(1, 8)).toBe(1);
    expect(poolSize(3, 8)).toBe(3);
    expect(poolSize(5, 0)).toBe(1);
  });

  it('treats containers of dead or unknown sessions as leftovers, never another host’s', () => {
    const here = { host: 'h1', alive: (pid: number) => pid === 42 };
    const labels = (pid: string, host: string) => ({
      'funsearch.run': 's',
      'funsearch.pid': pid,
      'funsearch.host': host,
    });
    expect(isLeftover(labels('41', 'h1'), here)).toBe(true);
    expect(isLeftover(labels('42', 'h1'), here)).toBe(false);
    expect(isLeftover(labels('41', 'h2'), here)).toBe(false);
    expect(isLeftover({ 'funsearch.run': 's' }, here)).toBe(true);
  });

  it('checks a batch eagerly', () => {
    const good = { program: 'x', functionToRun: 'f', testInputs: ['1'], timeoutSeconds: 1 };
    expect(() => checkBatch(good)).not.toThrow();
    expect(() => checkBatch({ ...good, timeoutSeconds: -1 })).toThrow(
      'Expected `timeoutSeconds` to be a finite number > 0, got `-1`',
    );
    expect(() => checkBatch({ ...good, timeoutSeconds: Number.NaN })).toThrow(TypeError);
    expect(() => checkBatch({ ...good, testInputs: [] })).toThrow(TypeError);
  });

  it('passes the sandbox limits to the harness', () => {
    const sandbox = parseConfig({
      sandbox: { memory_mb: 100, tmpfs_mb: 7, output_limit_bytes: 999 },
    }).sandbox;
    const command = harnessCommand('container', sandbox);
    expect(command.slice(0, 3)).toEqual(['python3', '-I', '-c']);
    expect(command[4]).toBe('container');
    expect(JSON.parse(command[5]!)).toMatchObject({
      memory_bytes: 100 * 1024 * 1024,
      fsize_bytes: 7 * 1024 * 1024,
      output_limit: 999,
      pids_limit: sandbox.pids_limit,
    });
  });

  it('writes a tar archive that a standard reader extracts', () => {
    const archive = tarArchive([
      { name: 'Dockerfile', content: 'FROM scratch\n' },
      { name: 'dir/b.txt', content: Buffer.from('ü'.repeat(600)) },
    ]);
    const script =
      'import io, sys, tarfile\n' +
      't = tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read()))\n' +
      'print([(m.name, t.extractfile(m).read().decode()) for m in t.getmembers()] == ' +
      '[("Dockerfile", "FROM scratch\\n"), ("dir/b.txt", "ü" * 600)])';
    expect(execFileSync('python3', ['-c', script], { input: archive, encoding: 'utf8' }).trim()).toBe('True');
  });
});

/** A stand-in harness: a real python3 process that says ready and then answers with garbage. */
function fakeWorker(reply: string): Promise<HarnessWorker> {
  const script = `
import json, os, struct, sys
def send(raw):
    os.write(1, struct.pack(">I", len(raw)) + raw)
send(json.dumps({"type": "ready", "protocol": 1, "pid": os.getpid(), "python": "3", "numpy": None}).encode())
sys.stdin.buffer.read(4)
send(${reply})
sys.stdin.buffer.read()
`;
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  const connection = new HarnessConnection(child.stdin, child.stdout, child.stderr, `fake ${child.pid}`);
  child.once('exit', () => connection.shutDown('exited'));
  return connection.ready.then(() => ({
    name: `fake ${child.pid}`,
    connection,
    diagnoseDeath: async () => ({ kind: 'crash', reason: 'fake harness died' }),
    destroy: async () => {
      child.kill('SIGKILL');
    },
  }));
}

describe('a harness that breaks the protocol', () => {
  it.each([
    [
      'an unknown message',
      'json.dumps({"type": "outcome", "id": 1, "index": 0, "outcome": {"kind": "ok", "score": 5}}).encode()',
    ],
    [
      'an outcome with fields missing',
      'json.dumps({"type": "result", "id": 1, "outcomes": [{"kind": "ok", "score": 5}], "clean": True, "cancelled": False}).encode()',
    ],
    ['a non-JSON frame', 'b"not json"'],
    [
      'a result that goes on past a failure',
      'json.dumps({"type": "result", "id": 1, "clean": True, "cancelled": False, "outcomes": [' +
        '{"kind": "crash", "reason": "x", "durationMs": 1, "stderr": ""},' +
        '{"kind": "ok", "durationMs": 1, "stderr": "", "score": 5, "scoreType": "int"}]}).encode()',
    ],
  ])('turns %s into a crash outcome, never a score, and replaces the worker', async (_name, reply) => {
    let created = 0;
    const pool = new WorkerPool({
      size: 1,
      createWorker: () => {
        created += 1;
        return fakeWorker(reply);
      },
    });
    await pool.start();
    try {
      const outcomes = await pool.runBatch({
        program: '',
        functionToRun: 'f',
        testInputs: ['1'],
        timeoutSeconds: 5,
      });
      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]).toMatchObject({ kind: 'crash', reason: expect.stringMatching(/protocol error/) });
      await expect.poll(() => created).toBe(2);
    } finally {
      await pool.close();
    }
  });
});
