/**
 * File order: the files known to take longest start first. Without a timing cache (a clean clone,
 * as CI runs) vitest starts larger files first, and the hostile suites are three-line files that
 * would start last and hold the whole run back by a minute.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first, as measured on the 2-core VM; files not listed follow in vitest's own order. */
const LONGEST = [
  'tests/queue/faults.test.ts',
  'tests/run/run-process.test.ts',
  'tests/sandbox/hostile-bwrap.test.ts',
  'tests/queue/run-redis.test.ts',
  'tests/sandbox/docker-sandbox.test.ts',
  'tests/sandbox/hostile-docker.test.ts',
  'tests/sandbox/process-sandbox.test.ts',
  'tests/sandbox/docker-lifecycle.test.ts',
  'tests/run/run-docker.test.ts',
  'tests/report/browser.test.ts',
  'tests/run/eval-cache-run.test.ts',
  'tests/sandbox/hostile-process.test.ts',
  'tests/queue/worker-start.test.ts',
  'tests/report/html.test.ts',
  'tests/cli/user-errors.test.ts',
];

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const index = LONGEST.findIndex((path) => file.moduleId.endsWith(path));
      return index < 0 ? LONGEST.length : index;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((file, index) => ({ file, index }))
      .sort((a, b) => rank(a.file) - rank(b.file) || a.index - b.index)
      .map(({ file }) => file);
  }
}
