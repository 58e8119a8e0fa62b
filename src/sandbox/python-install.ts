/**
 * Where the host's interpreter really lives: read from PATH when `python3` there is a binary, else
 * asked once per process. The process and bwrap sandboxes start every harness with the executable
 * found here: a version manager's `python3` on PATH is a shell script (pyenv, asdf) that costs
 * about half a second of CPU per start, and bubblewrap needs the real directories to mount.
 */
import { execFile } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { PYTHON_NOT_FOUND } from './protocol.js';

/** The interpreter to run and the host directories it needs (real paths). */
export interface PythonInstall {
  executable: string;
  dirs: string[];
}

const LAYOUT =
  'import json, os, sys; print(json.dumps([sys.executable, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]))';
const TIMEOUT_MS = 30_000;

const found = new Map<string, Promise<PythonInstall | string>>();

/**
 * The installation behind `python` (a name on PATH or a path), run as `user` when given; a
 * one-line problem when it cannot be started or does not answer. Memoised per interpreter and user.
 */
export function pythonInstall(
  python = 'python3',
  user?: { uid: number; gid: number },
): Promise<PythonInstall | string> {
  const key = `${python}\0${user?.uid ?? ''}\0${user?.gid ?? ''}`;
  let install = found.get(key);
  if (!install) {
    install = locate(python, user);
    found.set(key, install);
  }
  return install;
}

/**
 * The executable to start harnesses with, as `pythonInstall` would report it. When `python` on
 * PATH is a binary (or a link to one), that is the answer and no interpreter is started: each start
 * costs about 0.1 CPU-s here, once per process. A script (a version manager's shim) is asked.
 */
export async function pythonExecutable(python = 'python3', path = process.env.PATH ?? ''): Promise<string> {
  const file = onPath(python, path);
  if (file && isBinary(file)) return join(realpathSync(dirname(file)), basename(file));
  const install = await pythonInstall(python);
  // Not found: the harness's own start reports it, with the fix.
  return typeof install === 'string' ? python : install.executable;
}

/** The file a shell would run for `name`, or undefined when the lookup is not plain. */
function onPath(name: string, path: string): string | undefined {
  if (name.includes('/')) return isAbsolute(name) ? name : undefined;
  for (const dir of path.split(':')) {
    // An empty or relative entry depends on the working directory: leave it to the interpreter.
    if (!isAbsolute(dir)) return undefined;
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here, as the shell would find
    }
  }
  return undefined;
}

/** Whether `file` starts as an ELF executable does. */
function isBinary(file: string): boolean {
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    return readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === '\x7fELF';
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function locate(python: string, user?: { uid: number; gid: number }): Promise<PythonInstall | string> {
  const env = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    HOME: homedir(),
    TMPDIR: tmpdir(),
  };
  return new Promise((resolve) => {
    execFile(
      python,
      ['-I', '-c', LAYOUT],
      { env, cwd: '/', timeout: TIMEOUT_MS, ...user },
      (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') return resolve(PYTHON_NOT_FOUND);
        if (error) {
          const last = stderr.trim().split('\n').at(-1)?.trim() ?? '';
          return resolve(`${python} did not report its installation (exit ${error.code}): ${last}`);
        }
        try {
          const [executable, ...prefixes] = JSON.parse(stdout) as string[];
          // The directory is resolved, not the file: a virtual environment is recognised by its path.
          const exe = join(realpathSync(dirname(executable!)), basename(executable!));
          resolve({
            executable: exe,
            dirs: [...new Set([dirname(exe), ...prefixes.map((p) => realpathSync(p))])],
          });
        } catch (parseError) {
          resolve(`${python} did not report its installation: ${(parseError as Error).message}`);
        }
      },
    );
  });
}
