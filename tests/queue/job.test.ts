/** The queue's job format: what a run may send about the modules to preload. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { buildJob, parseJob } from '../../src/queue/job.js';

const { kind: _kind, ...limits } = parseConfig({}).sandbox;
const batch = {
  program: 'def evaluate(n):\n    return n\n',
  functionToRun: 'evaluate',
  testInputs: ['3'],
  timeoutSeconds: 5,
};
const scope = { run: 'run-a', session: 's1', sample: 'x1' };

describe('evaluation jobs and their preload', () => {
  it('carry the spec imports when given, and nothing (the worker default) when not', () => {
    const given = buildJob(batch, scope, limits, ['numpy', 'scipy.optimize']);
    expect(given).toMatchObject({ job: { preload: ['numpy', 'scipy.optimize'] } });
    const plain = buildJob(batch, scope, limits);
    expect('job' in plain && 'preload' in plain.job).toBe(false);
    expect(parseJob('job' in given ? given.job : null)).toEqual(given);
  });

  it('refuse anything but module names, which a worker would otherwise hand to Python', () => {
    for (const bad of ['os; import shutil', '../x', 'a..b', '', '1abc']) {
      expect(buildJob(batch, scope, limits, [bad])).toMatchObject({
        problem: expect.stringMatching(/^preload\.0: expected a module name/),
      });
    }
  });
});
