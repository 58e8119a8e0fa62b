/**
 * Ends a run with one line naming the groups that skipped for want of a system part (see
 * system.ts), what was missing, and the command that runs everything. Silent when nothing skipped.
 */
import type { Reporter, TestModule } from 'vitest/node';
import { RUN_EVERYTHING, type SystemSkip } from './system.js';

export default class SystemSkipReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const groups: string[] = [];
    const reasons = new Map<string, string>();
    for (const module of testModules) {
      const tasks = [...module.children.allSuites(), ...module.children.allTests()];
      for (const task of tasks) {
        const skip: SystemSkip | undefined = task.meta().systemSkip;
        // vitest copies a suite's meta to what it holds: name the outermost group only.
        if (!skip || (task.parent.type === 'suite' && task.parent.meta().systemSkip)) continue;
        groups.push(task.fullName);
        for (const [part, reason] of Object.entries(skip)) reasons.set(part, reason);
      }
    }
    if (groups.length === 0) return;
    const missing = [...reasons].map(([part, reason]) => `${part} (${reason})`).join(', ');
    process.stdout.write(
      `\nSkipped ${groups.length} group${groups.length === 1 ? '' : 's'} for want of ${missing}: ` +
        `${groups.join('; ')}. Run everything (a missing part then fails) with: ${RUN_EVERYTHING}\n`,
    );
  }
}
