// One chokidar watcher per folder for all file-change triggers: it watches only the folders
// the globs can match (their static bases), never descends into the default-ignored ones
// unless a glob names them, and reports each created, changed or deleted file once.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { ignoredFolder, watchRoots } from './globs';

export type FileEventKind = 'created' | 'changed' | 'deleted';

export interface FileEvent {
  /** Relative to the workspace, "/"-separated. */
  path: string;
  kind: FileEventKind;
  /** The file's modification time, when the watcher has it (not for deletions). */
  mtimeMs?: number;
  /** When it was observed. */
  at: number;
}

/** Says what to do about a watcher that hit the OS limit, or another watch error. */
export function watchErrorText(err: NodeJS.ErrnoException): string {
  if (err.code === 'ENOSPC') {
    let limit = '';
    try {
      limit = ` (now ${fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim()})`;
    } catch {
      // not Linux
    }
    return (
      `file-change triggers cannot watch more folders: the system limit on file watches, fs.inotify.max_user_watches${limit}, is reached. ` +
      'Raise it (e.g. "sudo sysctl fs.inotify.max_user_watches=524288", and in /etc/sysctl.conf to keep it) or narrow the on-change globs; ' +
      'changes in folders not watched are missed until then. The other triggers keep working.'
    );
  }
  if (err.code === 'EMFILE') return 'file-change triggers hit the limit on open files (ulimit -n); raise it or narrow the on-change globs. The other triggers keep working.';
  return `file-change watcher: ${err.message}`;
}

function existingAncestor(dir: string, top: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (d === top || fs.existsSync(d) || path.dirname(d) === d) return d;
  }
}

export class FileWatch {
  private watcher: FSWatcher | undefined;
  private roots: string[] = [];
  private readyPromise: Promise<void> = Promise.resolve();

  constructor(
    private readonly workspace: string,
    private readonly onEvent: (e: FileEvent) => void,
    private readonly onError: (message: string) => void,
    private readonly now: () => number,
  ) {}

  /** Watches what these globs need; a new watcher only when the folders to watch change. */
  async update(globs: readonly string[]): Promise<void> {
    const roots = globs.length ? watchRoots(globs) : [];
    const key = JSON.stringify([roots, globs.filter((g) => /(^|\/)(\.git|\.sdlc|node_modules)(\/|$)/.test(g))]);
    if (key === JSON.stringify([this.roots, this.namedIgnored])) return this.readyPromise;
    await this.close();
    this.roots = roots;
    this.namedIgnored = globs.filter((g) => /(^|\/)(\.git|\.sdlc|node_modules)(\/|$)/.test(g));
    if (!roots.length) return;
    const { watch } = await import('chokidar');
    const all = [...globs];
    const watcher = watch(
      // A folder that does not exist yet is watched from the nearest one that does, so its creation is seen.
      [...new Set(roots.map((r) => existingAncestor(path.join(this.workspace, r), this.workspace)))],
      {
        ignoreInitial: true,
        persistent: true,
        ignored: (p: string) => {
          const rel = this.rel(p);
          return rel !== '' && ignoredFolder(rel, all);
        },
      },
    );
    this.watcher = watcher;
    const emit = (kind: FileEventKind) => (p: string, stats?: { mtimeMs: number }) =>
      this.onEvent({ path: this.rel(p), kind, at: this.now(), ...(stats ? { mtimeMs: stats.mtimeMs } : {}) });
    watcher.on('add', emit('created')).on('change', emit('changed')).on('unlink', emit('deleted'));
    const reported = new Set<string>();
    watcher.on('error', (err: unknown) => {
      const text = watchErrorText(err as NodeJS.ErrnoException);
      if (reported.has(text)) return; // one message per cause, not one per folder
      reported.add(text);
      this.onError(text);
    });
    this.readyPromise = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    return this.readyPromise;
  }

  private namedIgnored: string[] = [];

  ready(): Promise<void> {
    return this.readyPromise;
  }

  /**
   * Whether any watched file matches, looked up in the watcher's own listing (no new reads),
   * yielding every few thousand entries so that a large tree never stalls the host.
   */
  async anyMatch(match: (rel: string) => boolean): Promise<boolean> {
    const watched = this.watcher?.getWatched() ?? {};
    let seen = 0;
    for (const [dir, names] of Object.entries(watched)) {
      const relDir = this.rel(dir);
      for (const name of names) {
        if (match(relDir ? `${relDir}/${name}` : name)) return true;
        if (++seen % 2000 === 0) await new Promise((r) => setImmediate(r));
      }
    }
    return false;
  }

  private rel(p: string): string {
    return path.relative(this.workspace, p).split(path.sep).join('/');
  }

  async close(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    this.roots = [];
    this.namedIgnored = [];
    this.readyPromise = Promise.resolve();
    await w?.close();
  }
}
