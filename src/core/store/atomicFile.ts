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
