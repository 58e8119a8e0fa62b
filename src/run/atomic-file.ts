/**
 * Writing a file so that a crash at any moment leaves either the old or the new content: write a
 * temporary file beside it, fsync it, rename it over the target, fsync the directory.
 */
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export async function writeFileAtomic(path: string, content: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const handle = await open(temporary, 'w');
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** Removes the temporary files that writers killed mid-write (kill -9) left in `dir`. */
export async function removeStaleTemporaries(dir: string): Promise<number> {
  const stale = (await readdir(dir)).filter((name) => /^\..+\.\d+\.\d+\.tmp$/.test(name));
  await Promise.all(stale.map((name) => unlink(join(dir, name)).catch(() => undefined)));
  return stale.length;
}
