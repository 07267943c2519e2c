// Fencing. The lease says who should own a folder; it cannot stop two processes that both
// believe they hold it (a takeover race, an owner frozen past its lease). The epoch can: every
// owner takes the next number by creating its file exclusively (only one process can create
// a given file), before it reads the database. Before and after each journal append, and
// before a snapshot replaces the database, the owner checks that no later epoch exists; a
// stale owner finds one, refuses to commit or dispatch, and steps down to follower.
import * as fs from 'fs';
import * as path from 'path';
import { fsyncDir } from './store/atomicFile';
import type { SdlcPaths } from './paths';

export class FencedError extends Error {
  constructor(readonly epoch: number) {
    super(`another orchestrator took over this folder (epoch ${epoch} is no longer the latest); this one stops acting and follows it`);
    this.name = 'FencedError';
  }
}

const WIDTH = 12;
const name = (n: number) => String(n).padStart(WIDTH, '0');
/** Epoch files kept below the current one; older ones go once they are an hour old. */
const KEEP = 8;
const PRUNE_AGE_MS = 3_600_000;

function highest(dir: string): number {
  let max = 0;
  for (const f of fs.readdirSync(dir)) {
    if (f.length === WIDTH && /^\d+$/.test(f)) max = Math.max(max, Number(f));
  }
  return max;
}

export class Epoch {
  private constructor(
    private readonly dir: string,
    readonly value: number,
  ) {}

  /** Takes the next epoch, or returns undefined when another process took that number first. */
  static take(paths: SdlcPaths, who: string): Epoch | undefined {
    fs.mkdirSync(paths.epochs, { recursive: true });
    const next = highest(paths.epochs) + 1;
    let fd: number;
    try {
      fd = fs.openSync(path.join(paths.epochs, name(next)), 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    }
    try {
      fs.writeSync(fd, `${who}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fsyncDir(paths.epochs);
    const epoch = new Epoch(paths.epochs, next);
    epoch.prune();
    return epoch;
  }

  /** A later epoch exists, or ours was pruned (only ever done by a later owner): we are stale. */
  get superseded(): boolean {
    return fs.existsSync(path.join(this.dir, name(this.value + 1))) || !fs.existsSync(path.join(this.dir, name(this.value)));
  }

  check(): void {
    if (this.superseded) throw new FencedError(this.value);
  }

  private prune(): void {
    const now = Date.now();
    for (const f of fs.readdirSync(this.dir)) {
      if (!/^\d+$/.test(f) || Number(f) >= this.value - KEEP) continue;
      const file = path.join(this.dir, f);
      try {
        if (now - fs.statSync(file).mtimeMs > PRUNE_AGE_MS) fs.rmSync(file, { force: true });
      } catch {
        // another owner pruned it
      }
    }
  }
}
