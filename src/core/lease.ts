// One orchestrator per folder: the owner holds a lease (a lock folder kept fresh by
// proper-lockfile); everyone else follows and retries. A lease goes stale when its owner
// stops refreshing it; when the owner is a process on this machine that no longer exists,
// it is taken over after the library's minimum staleness instead of the full one.
import * as fs from 'fs';
import * as os from 'os';
import lockfile from 'proper-lockfile';
import { writeFileAtomic } from './store/atomicFile';
import type { Logger } from './log';
import type { SdlcPaths } from './paths';

export interface OwnerInfo {
  pid: number;
  host: string;
  instance: string;
  label: string; // 'cli' | 'vscode' | …, for "following <label> (pid N)"
  since: number;
}

export function readOwner(paths: SdlcPaths): OwnerInfo | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths.owner, 'utf8')) as OwnerInfo;
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface LeaseOptions {
  staleMs: number;
  instance: string;
  label: string;
  log: Logger;
  /** Called when the lease was lost while held (the owner was frozen past staleness, or the lock removed). */
  onLost: (err: Error) => void;
}

export class Lease {
  private releaseFn: (() => Promise<void>) | undefined;

  constructor(
    private readonly paths: SdlcPaths,
    private readonly opts: LeaseOptions,
  ) {}

  get held(): boolean {
    return this.releaseFn !== undefined;
  }

  /** Tries once, without waiting. Returns whether this instance now owns the folder. */
  async tryAcquire(): Promise<boolean> {
    if (this.releaseFn) return true;
    fs.mkdirSync(this.paths.dir, { recursive: true });
    const owner = readOwner(this.paths);
    const ownerDead = owner !== undefined && owner.host === os.hostname() && owner.pid !== process.pid && !processAlive(owner.pid);
    if (ownerDead) this.removeDeadOwnersLock(owner);
    try {
      this.releaseFn = await lockfile.lock(this.paths.dir, {
        lockfilePath: this.paths.lease,
        realpath: false,
        retries: 0,
        stale: this.opts.staleMs,
        update: 1000,
        onCompromised: (err) => {
          this.releaseFn = undefined;
          this.opts.onLost(err);
        },
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return false;
      throw err;
    }
    const info: OwnerInfo = { pid: process.pid, host: os.hostname(), instance: this.opts.instance, label: this.opts.label, since: Date.now() };
    writeFileAtomic(this.paths.owner, JSON.stringify(info));
    return true;
  }

  /**
   * The owner's process is gone (killed, crashed): its lock need not go stale first. The lock
   * is renamed aside before removal, so of several processes doing this at once only one
   * removes it; the owner file is re-read just before, so a lock a new owner took is kept.
   */
  private removeDeadOwnersLock(dead: OwnerInfo): void {
    if (readOwner(this.paths)?.instance !== dead.instance) return;
    const aside = `${this.paths.lease}.dead-${process.pid}-${Date.now()}`;
    try {
      fs.renameSync(this.paths.lease, aside);
    } catch {
      return; // no lock, or another process moved it first
    }
    fs.rmSync(aside, { recursive: true, force: true });
    this.opts.log.info(`the previous owner, ${dead.label} (pid ${dead.pid}), is no longer running; taking over`);
  }

  /** After a long stall, checks synchronously that nobody took the folder over meanwhile. */
  stillOurs(): boolean {
    return this.held && readOwner(this.paths)?.instance === this.opts.instance && fs.existsSync(this.paths.lease);
  }

  /** Drops the lock without removing it: after a takeover the lock on disk is another owner's. */
  forget(): void {
    this.releaseFn = undefined;
  }

  async release(): Promise<void> {
    const release = this.releaseFn;
    this.releaseFn = undefined;
    if (!release) return;
    try {
      if (readOwner(this.paths)?.instance === this.opts.instance) fs.rmSync(this.paths.owner, { force: true });
      await release();
    } catch (err) {
      this.opts.log.warn(`releasing the lease: ${(err as Error).message}`);
    }
  }
}
