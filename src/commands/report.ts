/** `funsearch report RUN_DIR [-o FILE]`: the run's HTML report, for a finished, interrupted or running run. */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { REPORT_FILE, renderHtmlReport } from '../report/index.js';
import { writeFileAtomic } from '../run/atomic-file.js';

export interface ReportCommandOptions {
  runDir: string;
  /** Where the page goes; `<runDir>/report.html` when absent. */
  output?: string;
  /** Progress lines (stderr in the CLI). */
  log: (line: string) => void;
}

export async function reportCommand(options: ReportCommandOptions): Promise<string> {
  const runDir = resolve(options.runDir);
  const path = options.output ? resolve(options.output) : join(runDir, REPORT_FILE);
  const html = await renderHtmlReport(runDir);
  try {
    await writeFileAtomic(path, html);
  } catch (error) {
    throw new UserError(
      `${path}: cannot write the report (${(error as NodeJS.ErrnoException).code ?? error}); check -o/--output`,
    );
  }
  const { size } = await stat(path);
  options.log(`wrote ${path} (${formatSize(size)})`);
  return path;
}

function formatSize(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
