/**
 * The bwrap sandbox (`--sandbox bwrap`): the process sandbox's warm harness, started inside
 * bubblewrap (bwrap-probe.ts builds the command line), for hosts without a Docker engine. The
 * harness runs in its container mode as the namespace's pid 1, so after each candidate it kills
 * every other process and wipes /tmp, /dev/mqueue and System V IPC objects, as in a container.
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
import { harnessCommand } from './protocol.js';
import type { HarnessWorker } from './worker-pool.js';

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

  protected async prepare(): Promise<void> {
    this.host = await requireBubblewrap(
      this.options.probe ? probeBubblewrap(this.options.probe) : bubblewrapProbe(),
    );
  }

  protected createWorker(): Promise<HarnessWorker> {
    const host = this.host!;
    const [, ...args] = harnessCommand('container', this.options.config.sandbox, { workRoot: '/tmp' });
    return startHarnessProcess(
      {
        argv: bwrapArgv(host, this.options.config.sandbox, [host.python.executable, ...args], sandboxUid()),
        env: { PATH: process.env.PATH ?? SANDBOX_PATH },
        cwd: '/',
        uid: this.options.probe?.user?.uid,
        gid: this.options.probe?.user?.gid,
        fd3: host.seccomp,
        label: "the bwrap sandbox's python3 harness",
        notFound: `bubblewrap is not installed (no ${host.bwrap} on PATH): install the bubblewrap package`,
      },
      this.options.logger,
    );
  }
}
