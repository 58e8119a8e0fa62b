/**
 * Reading a file the user named (spec, inputs, config, env, candidate, mock answers): any failure
 * is a one-line UserError naming the file, what it was read as, the error code and the flag to
 * check. The one place that words this, so every command says it the same way.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UserError } from './errors.js';

export interface UserFile {
  path: string;
  /** What the file is, after "cannot read": e.g. `the specification file`. */
  what: string;
  /** The next step: e.g. `check -s/--specification-file`. */
  fix: string;
}

export async function readUserFile(file: UserFile): Promise<string> {
  try {
    return await readFile(file.path, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
}

/** For synchronous callers (the language-model factory). */
export function readUserFileSync(file: UserFile): string {
  try {
    return readFileSync(file.path, 'utf8');
  } catch (error) {
    throw unreadable(file, error);
  }
}

/** The text, or undefined when the file does not exist (a default the user may not have, like `.env`). */
export async function readUserFileIfPresent(file: UserFile): Promise<string | undefined> {
  try {
    return await readFile(file.path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw unreadable(file, error);
  }
}

function unreadable(file: UserFile, error: unknown): UserError {
  const reason = (error as NodeJS.ErrnoException).code ?? String(error);
  return new UserError(`${file.path}: cannot read ${file.what} (${reason}); ${file.fix}`);
}
