/** What `funsearch worker` may run candidates in: never unisolated without the explicit flag. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { checkWorkerSandbox, UNSAFE_WORKER_STATUS, UNSAFE_WORKER_WARNING } from '../../src/sandbox/index.js';

describe('checkWorkerSandbox', () => {
  it('refuses the process sandbox without --unsafe-process-sandbox, as a one-line UserError naming the flag', () => {
    for (const options of [undefined, {}, { unsafeProcessSandbox: false }]) {
      let error: unknown;
      try {
        checkWorkerSandbox('process', options);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).exitCode).toBe(2);
      expect((error as Error).message).toMatch(
        /--sandbox process.*--sandbox bwrap.*--unsafe-process-sandbox/,
      );
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('allows it with the flag, and gives the warning for the start and the status line', () => {
    const check = checkWorkerSandbox('process', { unsafeProcessSandbox: true });
    expect(check.warning).toBe(UNSAFE_WORKER_WARNING);
    expect(check.warning).toMatch(/not isolated.*Redis/);
    expect(check.status).toBe(UNSAFE_WORKER_STATUS);
    expect(check.status).toMatch(/^UNSAFE/);
  });

  it('lets the isolating sandboxes through with no warning, flag or not', () => {
    for (const kind of ['docker', 'bwrap'] as const) {
      expect(checkWorkerSandbox(kind)).toEqual({});
      expect(checkWorkerSandbox(kind, { unsafeProcessSandbox: true })).toEqual({});
    }
  });
});
