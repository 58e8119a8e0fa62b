/**
 * bubblewrap on this host: the command line that wraps one harness (own pid, network, ipc, uts
 * and mount namespaces; only the system directories and the Python installation, read-only; a
 * private size-capped /tmp; no host environment; an unprivileged user, through a user namespace
 * for an ordinary user, or as root a uid of its own, which then needs no user namespace and gets
 * a real process limit), and the one memoised probe that checks it works, with the fix if not.
 */
import { spawn } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { SandboxConfig } from '../config.js';
import { UserError } from '../errors.js';
import { type PythonInstall, pythonInstall } from './python-install.js';
import { noUserNamespacesFilter } from './seccomp.js';

/** Host directories bound read-only (or recreated as the same symlink) when they exist. */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** Files under /etc the dynamic loader and Debian's BLAS alternatives read; nothing else of /etc. */
const ETC_FILES = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives'];
export const SANDBOX_PATH = '/usr/local/bin:/usr/bin:/bin';
/** The uid and gid candidates see inside the user namespace (an ordinary user's path). */
const INNER_ID = 65534;
/**
 * Root's path: each harness runs as a uid of its own from this range, which no account uses, so
 * RLIMIT_NPROC counts exactly that harness's processes and no file on the host belongs to it.
 */
const ROOT_UID_BASE = 0x60000000;
/** Processes beyond `pids_limit` for the harness itself, its fork server and the candidate's child. */
const HARNESS_TASKS = 3;
const PROBE_TIMEOUT_MS = 30_000;

export interface BwrapHost {
  bwrap: string;
  python: PythonInstall;
  /** The host user bubblewrap runs as. */
  user: { uid: number; gid: number };
  /** The seccomp filter bubblewrap reads from file descriptor 3 (none on other architectures). */
  seccomp: Buffer | undefined;
}

/** The descriptor bubblewrap reads the seccomp filter from. */
export const SECCOMP_FD = 3;

export type BwrapProbe = { ok: true; host: BwrapHost } | { ok: false; problem: string };

export interface BwrapProbeOptions {
  /** The bubblewrap binary; default `bwrap` from PATH. */
  bwrap?: string | undefined;
  /** The interpreter; default `python3` from PATH (as the process sandbox). */
  python?: string | undefined;
  /** Host user to run bubblewrap as (only root may choose); default this process's. */
  user?: { uid: number; gid: number } | undefined;
  /** Where the kernel's sysctls are read to explain a failure; default /proc/sys. */
  procSys?: string | undefined;
}

interface Captured {
  code: number | null;
  stdout: string;
  stderr: string;
  error?: NodeJS.ErrnoException;
}

function capture(
  argv: readonly string[],
  options: { env: NodeJS.ProcessEnv; uid?: number; gid?: number; fd3?: Buffer | undefined },
): Promise<Captured> {
  return new Promise((resolve) => {
    const [command, ...args] = argv;
    const { fd3, ...spawnOptions } = options;
    const child = spawn(command!, args, {
      ...spawnOptions,
      cwd: '/',
      stdio: ['ignore', 'pipe', 'pipe', ...(fd3 ? ['pipe' as const] : [])],
    });
    if (fd3) {
      const extra = child.stdio[SECCOMP_FD] as Writable;
      extra.on('error', () => {}); // bubblewrap may exit before reading it: its exit says why
      extra.end(fd3);
    }
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), PROBE_TIMEOUT_MS);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr, error });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const lastLine = (text: string): string => text.trim().split('\n').at(-1)?.trim() ?? '';

const under = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir}/`);

/** Mounts that give the sandbox the system directories and the Python installation, read-only. */
function rootFileSystem(python: PythonInstall): string[] {
  const mounts: string[] = [];
  const bound: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    const stat = lstatSync(dir, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isSymbolicLink()) mounts.push('--symlink', readlinkSync(dir), dir);
    else if (stat.isDirectory()) {
      mounts.push('--ro-bind', dir, dir);
      bound.push(dir);
    }
  }
  const extra = [...python.dirs.map((d) => realpathSync(d)), ...ETC_FILES].filter(
    (path) => !bound.some((dir) => under(path, dir)),
  );
  const kept = extra.filter((path) => !extra.some((other) => other !== path && under(path, other)));
  // bubblewrap creates missing parents as 0700 root directories when it runs as root, which the
  // sandbox's own uid could not enter: create them first, world-readable.
  const parents = new Set<string>();
  for (const path of kept) {
    for (let p = dirname(path); p !== '/'; p = dirname(p)) parents.add(p);
  }
  const sorted = [...parents].sort((a, b) => a.split('/').length - b.split('/').length);
  for (const parent of sorted) mounts.push('--perms', '0755', '--dir', parent);
  for (const path of kept) mounts.push('--ro-bind-try', path, path);
  return mounts;
}

/**
 * The full command line: bubblewrap's options, then (as root) the drop to `uid`, then the
 * process limit, then `command`.
 */
export function bwrapArgv(
  host: BwrapHost,
  sandbox: Pick<SandboxConfig, 'pids_limit' | 'tmpfs_mb'>,
  command: readonly string[],
  uid: number,
): string[] {
  const asRoot = host.user.uid === 0;
  const namespaces = asRoot
    ? words('--unshare-pid --unshare-net --unshare-ipc --unshare-uts --unshare-cgroup-try')
    : words(`--unshare-all --unshare-user --disable-userns --uid ${INNER_ID} --gid ${INNER_ID}`);
  const environment = words(
    `--clearenv --setenv PATH ${SANDBOX_PATH} --setenv LANG C.UTF-8 --setenv HOME /tmp --setenv TMPDIR /tmp`,
  );
  const devices = words('--proc /proc --dev /dev --mqueue /dev/mqueue');
  const tmp = words(`--perms 1777 --size ${sandbox.tmpfs_mb * 1024 * 1024} --tmpfs /tmp --chdir /tmp`);
  // Changing the uid clears the parent-death signal, so setpriv sets it again afterwards.
  const drop = asRoot
    ? words(
        `--cap-add CAP_SETUID --cap-add CAP_SETGID -- setpriv --reuid=${uid} --regid=${uid} --clear-groups ` +
          '--inh-caps=-all --bounding-set=-all --no-new-privs --pdeathsig=SIGKILL --',
      )
    : ['--'];
  // One process limit for the harness and its candidates: counted per user namespace, or per uid.
  const limit = ['prlimit', `--nproc=${sandbox.pids_limit + HARNESS_TASKS}`, '--'];
  const seccomp = host.seccomp ? ['--seccomp', String(SECCOMP_FD)] : [];
  return [
    host.bwrap,
    ...namespaces,
    ...words('--hostname sandbox --die-with-parent --new-session --as-pid-1'),
    ...seccomp,
    ...environment,
    ...rootFileSystem(host.python),
    ...devices,
    ...tmp,
    ...drop,
    ...limit,
    ...command,
  ];
}

/** Arguments written as one string (none of them contains a space). */
const words = (text: string): string[] => text.split(' ');

function readSysctl(procSys: string, name: string): string | undefined {
  try {
    return readFileSync(join(procSys, ...name.split('.')), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Why bubblewrap could not build its sandbox, as one line with the fix. */
function explainFailure(result: Captured, host: BwrapHost, procSys: string): string {
  if (result.error?.code === 'ENOENT') {
    return `bubblewrap is not installed (no ${host.bwrap} on PATH): install the bubblewrap package (apt-get install bubblewrap), or choose another --sandbox`;
  }
  const detail = lastLine(result.stderr) || `exit ${result.code}`;
  if (host.user.uid !== 0) {
    if (readSysctl(procSys, 'kernel.unprivileged_userns_clone') === '0') {
      return `bubblewrap cannot create a user namespace (${detail}): unprivileged user namespaces are off; as root run \`sysctl -w kernel.unprivileged_userns_clone=1\`, or use --sandbox docker`;
    }
    if (readSysctl(procSys, 'user.max_user_namespaces') === '0') {
      return `bubblewrap cannot create a user namespace (${detail}): user namespaces are off; as root run \`sysctl -w user.max_user_namespaces=10000\`, or use --sandbox docker`;
    }
    if (readSysctl(procSys, 'kernel.apparmor_restrict_unprivileged_userns') === '1') {
      return `bubblewrap cannot create a user namespace (${detail}): AppArmor restricts them (Ubuntu 24.04); install an AppArmor profile for bwrap or, as root, run \`sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\`, or use --sandbox docker`;
    }
  }
  return `bubblewrap cannot build the sandbox here: ${detail} (see docs/sandbox.md), or use --sandbox docker`;
}

/** Checks once that bubblewrap can start the interpreter in the sandbox this module builds. */
export async function probeBubblewrap(options: BwrapProbeOptions = {}): Promise<BwrapProbe> {
  const user = options.user ?? { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  const python = await pythonInstall(options.python ?? 'python3', options.user);
  if (typeof python === 'string') return { ok: false, problem: python };
  const host: BwrapHost = {
    bwrap: options.bwrap ?? 'bwrap',
    python,
    user,
    seccomp: noUserNamespacesFilter(),
  };
  const command = [python.executable, '-I', '-c', 'print("sandbox-ok")'];
  const argv = bwrapArgv(host, { pids_limit: 8, tmpfs_mb: 1 }, command, sandboxUid());
  const env = { PATH: process.env.PATH ?? SANDBOX_PATH };
  const result = await capture(argv, { env, ...options.user, fd3: host.seccomp });
  if (result.code === 0 && result.stdout.trim() === 'sandbox-ok') return { ok: true, host };
  return { ok: false, problem: explainFailure(result, host, options.procSys ?? '/proc/sys') };
}

let defaultProbe: Promise<BwrapProbe> | undefined;

/** The memoised probe of this host's `bwrap` and `python3` (what `--sandbox bwrap` uses). */
export function bubblewrapProbe(): Promise<BwrapProbe> {
  defaultProbe ??= probeBubblewrap();
  return defaultProbe;
}

/** The host, or a UserError with the one-line fix: never a silent fallback to less isolation. */
export async function requireBubblewrap(probe: Promise<BwrapProbe> = bubblewrapProbe()): Promise<BwrapHost> {
  const result = await probe;
  if (!result.ok) throw new UserError(`--sandbox bwrap: ${result.problem}`);
  return result.host;
}

let nextUid = 0;
/** A uid of its own for each harness started by root, distinct across this process's pools. */
export function sandboxUid(): number {
  nextUid = (nextUid + 1) % 256;
  return ROOT_UID_BASE + ((process.pid & 0xffff) << 8) + nextUid;
}
