// Watching the files of file-change triggers. Where @parcel/watcher's prebuilt binary is
// installed (npm installs it with the CLI) it does the work: one OS watch per folder, the tree
// scanned on a native thread. Elsewhere chokidar, which watches every file (fine for small
// trees, heavy for large ones: see the benchmark). VS Code brings its own watcher
// (src/extension/vscodeFileWatch.ts), so the shared extension host never scans the tree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FSWatcher } from 'chokidar';
import { IGNORED_BY_DEFAULT, ignoredFolder, watchRoots } from './globs';

export type FileEventKind = 'created' | 'changed' | 'deleted';

export interface FileEvent {
  /** Relative to the workspace, "/"-separated. */
  path: string;
  kind: FileEventKind;
  /** The file's modification time, when the watcher has it. */
  mtimeMs?: number;
  /** When it was observed (wall clock). */
  at: number;
}

/** What the development-event triggers need from a watcher; hosts may bring their own. */
export interface FileWatcher {
  /** Watches what these globs can match (a new set replaces the old one). */
  update(globs: readonly string[]): Promise<void>;
  /** Resolves once changes from now on are seen. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export type FileWatcherFactory = (workspace: string, onEvent: (e: FileEvent) => void, onError: (message: string) => void) => FileWatcher;

/** Says what to do about a watcher that hit the OS limit, or another watch error. */
export function watchErrorText(err: { code?: string; message?: string }): string {
  if (err.code === 'ENOSPC' || /no space left on device|inotify_add_watch/i.test(err.message ?? '')) {
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

/** The folder itself, or (not created yet) the nearest one above it that exists, so its creation is seen. */
export function existingAncestor(dir: string, top: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (d === top || fs.existsSync(d) || path.dirname(d) === d) return d;
  }
}

/** The folders to watch for these globs, each one that exists (or its nearest existing parent). */
function rootsOf(workspace: string, globs: readonly string[]): string[] {
  return globs.length ? [...new Set(watchRoots(globs).map((r) => existingAncestor(path.join(workspace, r), workspace)))] : [];
}

/** Reports each distinct watch error once: a limit hit says so once, not once per folder. */
function reportOnce(onError: (message: string) => void): (err: unknown) => void {
  const reported = new Set<string>();
  return (err) => {
    const text = watchErrorText(err as NodeJS.ErrnoException);
    if (reported.has(text)) return;
    reported.add(text);
    onError(text);
  };
}

/** The globs naming a default-ignored folder: those folders are watched for them. */
function namedIgnored(globs: readonly string[]): string[] {
  return globs.filter((g) => IGNORED_BY_DEFAULT.some((top) => g === top || g.startsWith(`${top}/`) || g.includes(`/${top}/`)));
}

function relative(workspace: string, p: string): string {
  return path.relative(workspace, p).split(path.sep).join('/');
}

type Parcel = typeof import('@parcel/watcher');
let parcel: Promise<Parcel | undefined> | undefined;
function loadParcel(): Promise<Parcel | undefined> {
  parcel ??= import('@parcel/watcher').then(
    (m) => ((m as { default?: Parcel }).default ?? m) as Parcel,
    () => undefined,
  );
  return parcel;
}

/** @parcel/watcher where it is installed, chokidar otherwise. */
export const defaultFileWatcher: FileWatcherFactory = (workspace, onEvent, onError) => new NativeFirstWatch(workspace, onEvent, onError);

/** chokidar alone (where @parcel/watcher is not installed; also tested on its own). */
export const chokidarFileWatcher: FileWatcherFactory = (workspace, onEvent, onError) => new ChokidarWatch(workspace, onEvent, onError);

class NativeFirstWatch implements FileWatcher {
  private inner: FileWatcher | undefined;
  private readyPromise: Promise<void> = Promise.resolve();
  private readonly args: Parameters<FileWatcherFactory>;

  constructor(...args: Parameters<FileWatcherFactory>) {
    this.args = args;
  }

  async update(globs: readonly string[]): Promise<void> {
    if (!this.inner) {
      const p = await loadParcel();
      this.inner = p ? new ParcelWatch(p, ...this.args) : new ChokidarWatch(...this.args);
    }
    this.readyPromise = this.inner.update(globs);
    return this.readyPromise;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }
}

class ParcelWatch implements FileWatcher {
  private subs: { unsubscribe(): Promise<void> }[] = [];
  private key = '';
  private readonly error: (err: unknown) => void;

  constructor(
    private readonly parcel: Parcel,
    private readonly workspace: string,
    private readonly onEvent: (e: FileEvent) => void,
    onError: (message: string) => void,
  ) {
    this.error = reportOnce(onError);
  }

  async update(globs: readonly string[]): Promise<void> {
    const roots = rootsOf(this.workspace, globs);
    const named = namedIgnored(globs);
    const key = JSON.stringify([roots, named]);
    if (key === this.key) return;
    await this.close();
    this.key = key;
    // The default-ignored folders, at any depth, unless a glob names them.
    const ignore = IGNORED_BY_DEFAULT.filter((top) => !named.some((g) => g.includes(top))).map((top) => `**/${top}`);
    for (const root of roots) {
      try {
        this.subs.push(
          await this.parcel.subscribe(
            root,
            (err, events) => {
              if (err) return this.error(err);
              this.deliver(events, globs);
            },
            { ignore },
          ),
        );
      } catch (err) {
        this.error(err as Error);
      }
    }
  }

  /** A batch of events, in slices: a checkout of 10,000 files must not hold the thread. */
  private deliver(events: { path: string; type: string }[], globs: readonly string[], from = 0): void {
    const at = Date.now();
    const end = Math.min(events.length, from + 200);
    for (let i = from; i < end; i++) {
      const e = events[i];
      const rel = relative(this.workspace, e.path);
      if (ignoredFolder(rel, globs)) continue;
      this.onEvent({ path: rel, kind: e.type === 'create' ? 'created' : e.type === 'update' ? 'changed' : 'deleted', at });
    }
    if (end < events.length) setImmediate(() => this.deliver(events, globs, end));
  }

  ready(): Promise<void> {
    return Promise.resolve(); // subscribe() resolves once the watch is in place
  }

  async close(): Promise<void> {
    const subs = this.subs;
    this.subs = [];
    this.key = '';
    await Promise.all(subs.map((s) => s.unsubscribe().catch(() => undefined)));
  }
}

class ChokidarWatch implements FileWatcher {
  private watcher: FSWatcher | undefined;
  private key = '';
  private readyPromise: Promise<void> = Promise.resolve();

  constructor(
    private readonly workspace: string,
    private readonly onEvent: (e: FileEvent) => void,
    private readonly onError: (message: string) => void,
  ) {}

  async update(globs: readonly string[]): Promise<void> {
    const roots = rootsOf(this.workspace, globs);
    const key = JSON.stringify([roots, namedIgnored(globs)]);
    if (key === this.key) return this.readyPromise;
    await this.close();
    this.key = key;
    if (!roots.length) return;
    const { watch } = await import('chokidar');
    const all = [...globs];
    const watcher = watch(roots, {
      ignoreInitial: true,
      persistent: true,
      ignored: (p: string) => {
        const rel = relative(this.workspace, p);
        return rel !== '' && !rel.startsWith('..') && ignoredFolder(rel, all);
      },
    });
    this.watcher = watcher;
    const emit = (kind: FileEventKind) => (p: string, stats?: { mtimeMs: number }) =>
      this.onEvent({ path: relative(this.workspace, p), kind, at: Date.now(), ...(stats ? { mtimeMs: stats.mtimeMs } : {}) });
    watcher.on('add', emit('created')).on('change', emit('changed')).on('unlink', emit('deleted'));
    watcher.on('error', reportOnce(this.onError));
    this.readyPromise = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    return this.readyPromise;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  async close(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    this.key = '';
    this.readyPromise = Promise.resolve();
    await w?.close();
  }
}

/**
 * Whether any file under the workspace matches (an async walk of the folders the globs can
 * match, default-ignored folders left out, yielding per folder, stopping at the first match or
 * after `limit` entries): for saying once that a glob matches nothing yet.
 */
export async function anyFileMatches(workspace: string, globs: readonly string[], match: (rel: string) => boolean, limit = 200_000): Promise<boolean | undefined> {
  const queue = watchRoots(globs).map((r) => path.join(workspace, r));
  let seen = 0;
  while (queue.length) {
    const dir = queue.shift()!;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const rel = relative(workspace, path.join(dir, e.name));
      if (e.isDirectory()) {
        if (!ignoredFolder(rel, globs)) queue.push(path.join(dir, e.name));
      } else if (match(rel)) return true;
      if (++seen >= limit) return undefined; // too many to be sure; say nothing
    }
  }
  return false;
}
