// Watches the few files of a git repository that move when HEAD moves (HEAD, the HEAD reflog,
// the branch refs, packed-refs) and reports each commit, checkout and merge once.
import * as path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { changesOfReflog, classify, findGitDirs, readHead, reflogEnd, reflogSince, type GitChange, type GitDirs, type HeadState } from './gitState';

/** Git writes a ref in several steps (a .lock, a rename, the reflog); read once they settle. */
const SETTLE_MS = 40;

export class GitWatch {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private state: HeadState | undefined;
  /** Where the HEAD reflog was read up to: each entry after it is one event. */
  private reflogAt = 0;
  readonly dirs: GitDirs | undefined;

  constructor(
    workspace: string,
    private readonly onChange: (change: GitChange) => void,
    private readonly onError: (message: string) => void,
  ) {
    this.dirs = findGitDirs(workspace);
  }

  /** The HEAD last read, and how far its reflog was read: the baseline a restart catches up from. */
  get head(): HeadState | undefined {
    return this.state && { branch: this.state.branch, commit: this.state.commit, reflogAt: this.reflogAt };
  }

  /**
   * What happened between a HEAD remembered from an earlier run and the one read at start:
   * each reflog entry in between when the reflog still has them, else the difference.
   */
  async since(seen: HeadState): Promise<GitChange[]> {
    const dirs = this.dirs;
    const now = this.state;
    if (!dirs || !now) return [];
    const log = seen.reflogAt !== undefined ? await reflogSince(dirs, seen.reflogAt, this.reflogAt) : undefined;
    if (log) return changesOfReflog(dirs, log.entries, seen, now);
    const change = classify(seen, now);
    return change ? [change] : [];
  }

  /** Starts watching; resolves with HEAD as it is now (undefined outside a repository). */
  async start(): Promise<HeadState | undefined> {
    const dirs = this.dirs;
    if (!dirs) return undefined;
    this.state = await readHead(dirs);
    this.reflogAt = await reflogEnd(dirs);
    const wanted = new Set([
      dirs.gitDir,
      dirs.commonDir,
      path.join(dirs.gitDir, 'HEAD'),
      path.join(dirs.gitDir, 'logs'),
      path.join(dirs.gitDir, 'logs', 'HEAD'),
      path.join(dirs.commonDir, 'packed-refs'),
      path.join(dirs.commonDir, 'refs'),
    ]);
    const heads = path.join(dirs.commonDir, 'refs', 'heads');
    const { watch } = await import('chokidar');
    const watcher = watch([dirs.gitDir, ...(dirs.commonDir !== dirs.gitDir ? [dirs.commonDir] : [])], {
      ignoreInitial: true,
      persistent: true,
      ignored: (p: string) => p.endsWith('.lock') || !(wanted.has(p) || p === heads || p.startsWith(heads + path.sep)),
    });
    this.watcher = watcher;
    const poke = () => this.schedule();
    watcher.on('add', poke).on('change', poke).on('unlink', poke);
    watcher.on('error', (err: unknown) => this.onError(`git watcher: ${(err as Error).message}`));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    return this.state;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.read(), SETTLE_MS);
  }

  /** Reads HEAD again; one read at a time, and one more if something moved meanwhile. */
  private async read(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        const dirs = this.dirs!;
        const now = await readHead(dirs);
        if (!now || !this.state) {
          this.state ??= now;
          continue;
        }
        // Each reflog entry is one event, so a checkout and a merge made in one breath are two;
        // without a reflog, the states before and after are compared.
        const log = await reflogSince(dirs, this.reflogAt);
        const before = this.state;
        this.state = now;
        if (log) {
          this.reflogAt = log.end;
          for (const change of await changesOfReflog(dirs, log.entries, before, now)) this.onChange(change);
        } else {
          this.reflogAt = await reflogEnd(dirs);
          const change = classify(before, now);
          if (change) this.onChange(change);
        }
      } while (this.again);
    })().finally(() => (this.reading = undefined));
    return this.reading;
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    const w = this.watcher;
    this.watcher = undefined;
    await w?.close();
    await this.reading;
  }
}
