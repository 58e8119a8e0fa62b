/**
 * The bwrap sandbox (`--sandbox bwrap`): the process sandbox's warm harness, started inside
 * bubblewrap (bwrap-probe.ts builds the command line), for hosts without a Docker engine. The
 * harness runs in its container mode as the namespace's pid 1, so after each candidate it kills
 * the candidate's process tree, checks that no process but itself and its fork server is left,
 * and wipes /tmp, /dev/mqueue and System V IPC objects, as in a container.
 */
import {
  type BwrapHost,
  type BwrapProbeOptions,
  bubblewrapProbe,
  bwrapArgv,
  probeBubblewrap,
  requireBubblewrap,
  SANDBOX_PATH,
  sandboxUid,
} from './bwrap-probe.js';
import { LocalHarnessSandbox, type LocalSandboxOptions, startHarnessProcess } from './harness-process.js';
import { createMemoryCgroup, inCgroup, memoryCgroupHierarchy } from './memory-cgroup.js';
import { harnessCommand } from './protocol.js';
import type { HarnessWorker } from './worker-pool.js';

/** Room for the warm harness itself (Python with numpy loaded, the files it maps) in its memory cgroup. */
const HARNESS_HEADROOM_MB = 128;

export interface BwrapSandboxOptions extends LocalSandboxOptions {
  /** Probe options (tests: another interpreter, or an ordinary user when running as root). */
  probe?: BwrapProbeOptions | undefined;
}

export class BwrapSandbox extends LocalHarnessSandbox {
  readonly kind = 'bwrap' as const;
  private host: BwrapHost | undefined;

  constructor(private readonly options: BwrapSandboxOptions) {
    super(options);
  }

  /**
   * Whether `memory_mb` holds for a harness and all its processes together (a memory cgroup per
   * harness, as a container has); otherwise it holds per process only.
   */
  get memoryCapped(): boolean {
    return this.options.probe?.user === undefined && memoryCgroupHierarchy() !== null;
  }

  protected async prepare(): Promise<void> {
    this.host = await requireBubblewrap(
      this.options.probe ? probeBubblewrap(this.options.probe) : bubblewrapProbe(),
    );
    if (!this.memoryCapped) {
      this.options.logger?.info(
        {},
        'bwrap sandbox: no memory cgroup can be made here (it needs root and the memory controller), so memory_mb holds per process, not for a candidate and its children together',
      );
    }
  }

  protected async createWorker(): Promise<HarnessWorker> {
    const host = this.host!;
    const { sandbox } = this.options.config;
    const [, ...args] = harnessCommand('container', sandbox, {
      workRoot: '/tmp',
      preload: this.options.preload,
    });
    // The harness's own memory comes on top, so one process still meets its own address-space
    // limit first; the cgroup catches what a candidate's processes use together.
    const limit = (sandbox.memory_mb + HARNESS_HEADROOM_MB) * 2 ** 20;
    const cgroup = this.memoryCapped ? createMemoryCgroup(limit, this.options.logger) : undefined;
    const argv = bwrapArgv(host, sandbox, [host.python.executable, ...args], sandboxUid());
    let worker: HarnessWorker;
    try {
      worker = await this.startHarness(cgroup ? inCgroup(cgroup, argv) : argv);
    } catch (error) {
      await cgroup?.remove();
      throw error;
    }
    if (!cgroup) return worker;
    return {
      ...worker,
      destroy: async () => {
        await worker.destroy();
        await cgroup.remove();
      },
    };
  }

  private startHarness(argv: string[]): Promise<HarnessWorker> {
    const host = this.host!;
    return startHarnessProcess(
      {
        argv,
        env: { PATH: process.env.PATH ?? SANDBOX_PATH },
        cwd: '/',
        uid: this.options.probe?.user?.uid,
        gid: this.options.probe?.user?.gid,
        fd3: host.seccomp,
        label: "the bwrap sandbox's python3 harness",
        notFound: `bubblewrap is not installed (no ${host.bwrap} on PATH): install the bubblewrap package`,
        preload: this.options.preload,
        readyTimeoutMs: this.options.readyTimeoutMs,
      },
      this.options.logger,
    );
  }
}
