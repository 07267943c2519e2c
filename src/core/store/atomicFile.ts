// Crash-safe file replacement: write a temp file, fsync it, rename it over the target,
// fsync the folder. After a crash the target is the old file or the new one, never half.
import * as fs from 'fs';
import * as path from 'path';

const RETRYABLE_RENAME = new Set(['EPERM', 'EBUSY', 'EACCES']);

/** Sleeps the thread without spinning; only for the short rename retries Windows needs. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return; // opening a folder for fsync throws there
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Windows refuses a rename over a file another process briefly holds open; try again. */
export function renameWithRetry(from: string, to: string, attempts = 10): void {
  for (let i = 0; ; i++) {
    try {
      fs.renameSync(from, to);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (i >= attempts - 1 || !RETRYABLE_RENAME.has(code)) throw err;
      sleepSync(10 * (i + 1));
    }
  }
}

/** renameWithRetry off this thread: a rename over a large file frees its blocks, which takes a while. */
export async function renameWithRetryAsync(from: string, to: string, attempts = 10): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      return await fs.promises.rename(from, to);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (i >= attempts - 1 || !RETRYABLE_RENAME.has(code)) throw err;
      await new Promise((r) => setTimeout(r, 10 * (i + 1)));
    }
  }
}

export async function fsyncDirAsync(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // as fsyncDir
  const handle = await fs.promises.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** `beforeRename` may throw to leave the target as it was (a fenced owner must not replace the database). */
export function writeFileAtomic(target: string, data: Uint8Array | string, mode?: number, beforeRename?: () => void): void {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } catch (err) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fs.closeSync(fd);
  try {
    beforeRename?.();
    renameWithRetry(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}
