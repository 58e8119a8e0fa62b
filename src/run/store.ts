/**
 * Where a run keeps what it writes: a run directory on disk, or memory (tests, library users who
 * want no files). The run decides what and when; the store only knows where and how.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Writable } from 'node:stream';
import type { Config } from '../config.js';
import { UserError } from '../errors.js';
import { pidAlive } from '../pid-alive.js';
import { writeHtmlReport } from '../report/index.js';
import { removeStaleTemporaries, writeFileAtomic } from './atomic-file.js';
import { readCheckpoint, writeCheckpoint } from './checkpoint.js';
import { EventLog } from './event-log.js';
import type { Checkpoint, SampleEvent, Summary } from './formats.js';
import { RUN_FILES, writeRunConfig } from './run-dir.js';

/** The files a run leaves besides its checkpoint and events (summary, text report, island programs). */
export interface RunReports {
  summary: Summary;
  reportText: string;
  /** `island_<i>_best_program.py` → whole program text. */
  programs: Map<string, string>;
}

export interface RunStore {
  /** The run directory, when there is one. */
  readonly dir: string | undefined;
  /** The last checkpoint of a resumed run; undefined for a new run or one killed before its first. */
  readCheckpoint(): Promise<Checkpoint | undefined>;
  /** Makes the store writable: creates the directory of a new run; tidies a resumed one. */
  open(): Promise<void>;
  /** Forgets the events of a resumed run that had no checkpoint yet: it starts again from scratch. */
  resetEvents(): Promise<void>;
  appendEvent(event: SampleEvent): void;
  writeCheckpoint(checkpoint: Checkpoint): Promise<void>;
  writeReports(reports: RunReports): Promise<void>;
  /** The HTML page, drawn from what is stored; a no-op without a directory. */
  writeReportPage(): Promise<void>;
  /** Where run.log lines go; they are held until `open`, and dropped by `discard`. */
  readonly log: Writable;
  close(): Promise<void>;
  /** After a failed start: removes whatever `open` created for a new run. */
  discard(): Promise<void>;
}

/** Holds writes until a file is attached, then passes them through; dropped if never attached. */
class DeferredFile extends Writable {
  private held: Buffer[] = [];
  private file: WriteStream | undefined;

  attach(path: string): void {
    this.file = createWriteStream(path, { flags: 'a' });
    for (const chunk of this.held.splice(0)) this.file.write(chunk);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.file) this.file.write(chunk, callback);
    else {
      this.held.push(chunk);
      callback();
    }
  }

  async finish(): Promise<void> {
    this.held = [];
    const file = this.file;
    this.file = undefined;
    if (file) await new Promise<void>((resolve) => file.end(resolve));
  }
}

type DirectorySource =
  | { kind: 'new'; reportDir: string; specFile: string; inputsFile: string; config: Config; now?: Date }
  | { kind: 'resume'; dir: string; config: Config };

export class DirectoryStore implements RunStore {
  readonly log = new DeferredFile();
  private directory: string | undefined;
  private events: EventLog | undefined;
  private created = false;

  private constructor(private readonly source: DirectorySource) {
    if (source.kind === 'resume') this.directory = source.dir;
  }

  /** A new run directory under `reportDir`, created only when the run has started. */
  static forNewRun(options: Omit<Extract<DirectorySource, { kind: 'new' }>, 'kind'>): DirectoryStore {
    return new DirectoryStore({ kind: 'new', ...options });
  }

  /** The directory of a run to resume; `config` (flags may have changed budgets) is saved on open. */
  static forResume(dir: string, config: Config): DirectoryStore {
    return new DirectoryStore({ kind: 'resume', dir, config });
  }

  get dir(): string | undefined {
    return this.directory;
  }

  async readCheckpoint(): Promise<Checkpoint | undefined> {
    if (this.source.kind === 'new') return undefined;
    const path = join(this.source.dir, RUN_FILES.checkpoint);
    if (!(await exists(path))) return undefined;
    return readCheckpoint(path);
  }

  async open(): Promise<void> {
    if (this.events) return;
    if (this.source.kind === 'new') {
      this.directory = await createRunDirectory(this.source);
      this.created = true;
    } else {
      await removeStaleTemporaries(this.source.dir);
      await writeRunConfig(this.source.dir, this.source.config);
    }
    this.log.attach(join(this.directory!, RUN_FILES.log));
    this.events = new EventLog(join(this.directory!, RUN_FILES.events));
  }

  async resetEvents(): Promise<void> {
    this.events?.close();
    await writeFile(join(this.directory!, RUN_FILES.events), '');
    this.events = new EventLog(join(this.directory!, RUN_FILES.events));
  }

  appendEvent(event: SampleEvent): void {
    this.events?.write(event);
  }

  async writeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    await writeCheckpoint(join(this.directory!, RUN_FILES.checkpoint), checkpoint);
  }

  async writeReports({ summary, reportText, programs }: RunReports): Promise<void> {
    const dir = this.directory!;
    await writeFileAtomic(join(dir, RUN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
    await writeFile(join(dir, 'report.txt'), reportText);
    await Promise.all([...programs].map(([name, text]) => writeFile(join(dir, name), text)));
  }

  async writeReportPage(): Promise<void> {
    if (this.directory && this.events) await writeHtmlReport(this.directory);
  }

  async close(): Promise<void> {
    this.events?.close();
    this.events = undefined;
    await this.log.finish();
  }

  async discard(): Promise<void> {
    await this.close();
    if (this.created && this.directory) await rm(this.directory, { recursive: true, force: true });
  }
}

/** Everything in memory: for tests and for library users who want the result only. */
export class MemoryStore implements RunStore {
  readonly dir = undefined;
  readonly events: SampleEvent[] = [];
  checkpoint: Checkpoint | undefined;
  reports: RunReports | undefined;
  opened = false;
  readonly log = new Writable({ write: (_chunk, _encoding, callback) => callback() });

  /** Starts from a checkpoint, as a resumed run would. */
  constructor(initial?: { checkpoint?: Checkpoint }) {
    this.checkpoint = initial?.checkpoint;
  }

  async readCheckpoint(): Promise<Checkpoint | undefined> {
    return this.checkpoint ? structuredClone(this.checkpoint) : undefined;
  }
  async open(): Promise<void> {
    this.opened = true;
  }
  async resetEvents(): Promise<void> {
    this.events.length = 0;
  }
  appendEvent(event: SampleEvent): void {
    this.events.push(event);
  }
  async writeCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.checkpoint = structuredClone(checkpoint);
  }
  async writeReports(reports: RunReports): Promise<void> {
    this.reports = reports;
  }
  async writeReportPage(): Promise<void> {}
  async close(): Promise<void> {}
  async discard(): Promise<void> {
    this.opened = false;
  }
}

async function createRunDirectory(options: Extract<DirectorySource, { kind: 'new' }>): Promise<string> {
  const now = options.now ?? new Date();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '_').slice(0, 15);
  const name = basename(options.specFile, extname(options.specFile)).replace(/[^A-Za-z0-9_.-]/g, '_');
  try {
    await mkdir(options.reportDir, { recursive: true });
  } catch (error) {
    throw new UserError(
      `${options.reportDir}: cannot create the report directory (${(error as NodeJS.ErrnoException).code}); check --report-dir`,
    );
  }
  await sweepStaging(options.reportDir);
  // The directory appears whole: its files are written under a hidden name that is then renamed, so
  // a kill -9 never leaves a run directory without its config (which --resume could not read).
  const staging = join(options.reportDir, `.${stamp}_${name}.${process.pid}.staging`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging);
  try {
    await copyFile(options.specFile, join(staging, RUN_FILES.spec));
    await copyFile(options.inputsFile, join(staging, RUN_FILES.inputs));
    await writeRunConfig(staging, options.config);
    // Two runs started in the same second get distinct directories.
    for (let suffix = 1; ; suffix++) {
      const dir = join(options.reportDir, suffix === 1 ? `${stamp}_${name}` : `${stamp}_${name}_${suffix}`);
      if (await exists(dir)) continue;
      try {
        await rename(staging, dir);
        return dir;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw error;
      }
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A staging directory lives for the milliseconds its run takes to fill it; older than this, with
 * its creator gone, it was left by a kill during creation. The age guards a report directory
 * shared with other hosts, where the pid in the name means nothing here.
 */
export const STALE_STAGING_MS = 10 * 60_000;

/** Removes the staging directories that runs killed while creating their directory left behind. */
async function sweepStaging(reportDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(reportDir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = /^\..+\.(\d+)\.staging$/.exec(name)?.[1];
    if (pid === undefined || pidAlive(Number(pid))) continue;
    const path = join(reportDir, name);
    try {
      if (Date.now() - (await stat(path)).mtimeMs < STALE_STAGING_MS) continue;
      await rm(path, { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to remove: it stays, and costs nothing but its name.
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
