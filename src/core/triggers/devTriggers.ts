// The development-event triggers of one owned folder: file changes, git, folder open and VS
// Code tasks. Events are gathered in memory per action and debounced; only a settled burst
// becomes one batch, which the owner's next tick applies in its one commit (so a save storm
// never reaches the database event by event). A run's own writes never trigger it again.
import * as fs from 'node:fs';
import * as path from 'node:path';
import picomatch from 'picomatch';
import { DEFAULT_DEBOUNCE_MS, type CatchUpPolicy, type Overlap, type Trigger } from '../model';
import { parseDuration } from '../duration';
import type { Logger } from '../log';
import { compileMatcher, type Matcher } from './globs';
import { anyFileMatches, defaultFileWatcher, type FileEvent, type FileWatcher, type FileWatcherFactory } from './fileWatch';
import type { GitChange, HeadState } from './gitState';
import { GitWatch } from './gitWatch';
import { CHANGED_LIST, MAX_CHANGED_PATHS, type DevBatch } from './devBatch';

export { CHANGED_LIST, type DevBatch } from './devBatch';

export type DevTrigger = Extract<Trigger, { kind: 'change' | 'git' | 'open' | 'afterTask' }>;

export interface DevAction {
  id: string;
  name: string;
  trigger: DevTrigger;
  catchUp: CatchUpPolicy;
  catchUpLimit: number;
}

/** After a run ends, changes it wrote may still be on their way from the OS for this long. */
const SELF_WRITE_GRACE_MS = 2000;
/** A deletion has no mtime to tell whose it was: only one reported right at the run's end is the run's. */
const DELETE_GRACE_MS = 250;
/**
 * A file's mtime comes from the kernel's coarse clock, up to a scheduler tick (4–10 ms) behind
 * the wall clock: a run's first write, made a millisecond after it started, can carry a time
 * from before its start. (Measured here: up to 5.9 ms before a `Date.now()` read just ahead.)
 */
const MTIME_GRAIN_MS = 10;

export interface RunWindow {
  running: boolean;
  /** Wall-clock start of its current or last run here. */
  startedAt?: number;
  /** Wall-clock end of its last run, if one ended in this process. */
  endedAt?: number;
}

interface Gathering {
  action: DevAction;
  debounceMs: number;
  firstAt: number;
  lastAt: number;
  timer: NodeJS.Timeout | undefined;
  cause: string;
  data: Record<string, string>;
  files?: Set<string>;
  count: number;
  events: number;
}

export interface DevTriggersOptions {
  workspace: string;
  log: Logger;
  /** Wakes the owner's loop: a batch is ready. */
  notify: () => void;
  /** Whether a run of the action is in flight, and when its last one ended. */
  runWindow: (actionId: string) => RunWindow;
  /** The host's own file watcher (VS Code's); @parcel/watcher or chokidar otherwise. */
  fileWatcher?: FileWatcherFactory;
}

export interface Taken {
  batches: DevBatch[];
  warnings: string[];
  /** HEAD as last seen, to remember for the catch-up after a restart. */
  head?: HeadState;
}

export class DevTriggers {
  private actions: DevAction[] = [];
  private change: { action: DevAction; match: Matcher }[] = [];
  private gathering = new Map<string, Gathering>();
  private ready: DevBatch[] = [];
  private warnings: string[] = [];
  private files: FileWatcher;
  private git: GitWatch | undefined;
  private headDirty = false;
  private stopped = false;
  /** Globs already looked up for "matches no file yet" (said once per action and glob). */
  private readonly flagged = new Set<string>();
  /** Changes dropped because the action's own run was in flight (or had just ended). */
  suppressed = 0;

  constructor(private readonly opts: DevTriggersOptions) {
    this.files = (opts.fileWatcher ?? defaultFileWatcher)(opts.workspace, (e) => this.onFile(e), (m) => this.warn(m));
  }

  /**
   * Watches what these actions need. `start` is set on the first call after becoming owner:
   * `open` actions fire, and a HEAD that moved since `seen` is caught up.
   */
  async update(actions: DevAction[], start?: { seenHead: HeadState | undefined }): Promise<void> {
    this.actions = actions;
    const live = new Set(actions.map((a) => a.id));
    for (const [id, g] of this.gathering) if (!live.has(id)) (clearTimeout(g.timer), this.gathering.delete(id));
    this.change = actions.flatMap((a) => (a.trigger.kind === 'change' ? [{ action: a, match: compileMatcher(a.trigger.paths, a.trigger.ignore) }] : []));
    const gitActions = actions.filter((a) => a.trigger.kind === 'git');
    if (start) for (const a of actions) if (a.trigger.kind === 'open') this.push({ actionId: a.id, cause: 'open', data: { SDLC_EVENT: 'open' }, overlap: 'queue-one', events: 1 });
    await this.files.update(this.change.flatMap((c) => (c.action.trigger as { paths: string[] }).paths));
    void this.flagEmptyGlobs().catch((err) => this.opts.log.debug(`looking for files matching the on-change globs: ${(err as Error).message}`));
    if (gitActions.length && !this.git && !this.stopped) {
      this.git = new GitWatch(this.opts.workspace, (change) => this.onGit(change), (m) => this.warn(m));
      if (!this.git.dirs) this.warn(`on-git actions (${gitActions.map((a) => a.name).join(', ')}) wait for a git repository: ${this.opts.workspace} is not in one`);
      const head = await this.git.start();
      if (head) this.headDirty = true;
      if (start?.seenHead && head) await this.catchUpGit(this.git, start.seenHead);
    } else if (!gitActions.length && this.git) {
      await this.git.close();
      this.git = undefined;
    }
  }

  /** A glob that matches nothing is allowed (the files may come later) but said once, in case it is a typo. */
  private async flagEmptyGlobs(): Promise<void> {
    for (const { action } of this.change) {
      const t = action.trigger as Extract<Trigger, { kind: 'change' }>;
      for (const glob of t.paths) {
        const key = `${action.id}\0${glob}`;
        if (this.flagged.has(key)) continue;
        this.flagged.add(key);
        const one = compileMatcher([glob], t.ignore);
        if ((await anyFileMatches(this.opts.workspace, [glob], one)) === false) this.opts.log.info(`${action.name}: on-change "${glob}" matches no file yet; it runs once one is created (check the glob if that is not what you meant)`);
      }
    }
  }

  /** Resolves once the watchers have read their folders: events from now on are seen. */
  async whenReady(): Promise<void> {
    await this.files.ready();
  }

  /** A VS Code task ended (the extension reports it). */
  taskEnded(label: string, exitCode: number | undefined): void {
    for (const a of this.actions) {
      const t = a.trigger;
      if (t.kind !== 'afterTask' || t.task !== label) continue;
      const ok = exitCode === 0;
      if ((t.onlyOn === 'success' && !ok) || (t.onlyOn === 'failure' && ok)) continue;
      this.gather(a, `task:${label}`, { SDLC_EVENT: 'task', SDLC_TASK_LABEL: label, SDLC_TASK_EXIT_CODE: exitCode === undefined ? '' : String(exitCode) });
    }
  }

  /** What settled since the last call. */
  take(): Taken {
    const out: Taken = { batches: this.ready, warnings: this.warnings };
    if (this.headDirty && this.git?.head) out.head = this.git.head;
    this.headDirty = false;
    this.ready = [];
    this.warnings = [];
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const g of this.gathering.values()) clearTimeout(g.timer);
    this.gathering.clear();
    await this.files.close();
    await this.git?.close();
    this.git = undefined;
  }

  // ---- events in ----

  private onFile(e: FileEvent): void {
    for (const { action, match } of this.change) {
      if (!match(e.path)) continue;
      // While a run of it is in flight or has just ended, whose write this was is told by the
      // file's mtime: the watcher (parcel, VS Code's) may not have it yet.
      const w = this.opts.runWindow(action.id);
      const near = w.running || (w.endedAt !== undefined && e.at - w.endedAt < SELF_WRITE_GRACE_MS);
      if (near && e.mtimeMs === undefined && e.kind !== 'deleted' && selfSuppressing(action)) {
        void fs.promises.stat(path.join(this.opts.workspace, e.path)).then(
          (s) => this.onFileOf(action, { ...e, mtimeMs: s.mtimeMs }),
          () => this.onFileOf(action, { ...e, kind: 'deleted' }),
        );
        continue;
      }
      this.onFileOf(action, e);
    }
  }

  /** One matching change for one action: dropped when the action's own run made it, else added to its burst. */
  private onFileOf(action: DevAction, e: FileEvent): void {
    if (this.ownWrite(action, e)) return;
    const g = this.gather(action, 'change', { SDLC_EVENT: 'change' });
    g.files ??= new Set();
    if (g.files.has(e.path)) return;
    if (g.files.size < MAX_CHANGED_PATHS) g.files.add(e.path);
    g.count++; // exact up to the cap, then an upper bound (a path past the cap may repeat)
  }

  /**
   * A change the action's own run made: seen while it ran, or just after its end with an mtime
   * from before it (the OS reports a write a little later than it happens). Only for queue-one
   * and skip: under restart and parallel every change counts (a dev server does not write what
   * it watches).
   */
  private ownWrite(action: DevAction, e: FileEvent): boolean {
    if (!selfSuppressing(action)) return false;
    const w = this.opts.runWindow(action.id);
    let own = false;
    if (e.mtimeMs !== undefined) {
      // Written after the run started and (if it ended) before it ended: the run's.
      own = (w.running || (w.endedAt !== undefined && e.at - w.endedAt < SELF_WRITE_GRACE_MS)) && w.startedAt !== undefined && e.mtimeMs >= w.startedAt - MTIME_GRAIN_MS && (w.running || e.mtimeMs <= w.endedAt! + 1);
    } else {
      own = w.running || (w.endedAt !== undefined && e.at - w.endedAt < DELETE_GRACE_MS);
    }
    if (own) this.suppressed++;
    return own;
  }

  private onGit(change: GitChange): void {
    this.headDirty = true;
    for (const a of this.actions) {
      const t = a.trigger;
      if (t.kind !== 'git' || !gitMatches(t, change)) continue;
      if (selfSuppressing(a) && this.opts.runWindow(a.id).running) {
        this.suppressed++; // a command that commits does not trigger itself
        continue;
      }
      this.gather(a, `git:${change.event}`, gitData(change));
    }
  }

  /**
   * Git events that happened while no orchestrator ran, per each action's catch-up policy:
   * `skip` records them as skipped, `once` runs once with the newest, `all` runs once for each
   * (up to the catch-up limit).
   */
  private async catchUpGit(git: GitWatch, seen: HeadState): Promise<void> {
    const changes = await git.since(seen);
    if (!changes.length) return;
    for (const a of this.actions) {
      const t = a.trigger;
      if (t.kind !== 'git') continue;
      const matching = changes.filter((c) => gitMatches(t, c));
      if (!matching.length) continue;
      const chosen = a.catchUp === 'all' ? matching.slice(-a.catchUpLimit) : matching.slice(-1);
      for (const change of chosen) {
        this.push({
          actionId: a.id,
          cause: `git:${change.event}`,
          data: gitData(change),
          overlap: overlapOf(t),
          events: a.catchUp === 'all' ? 1 : matching.length,
          catchUp: { policy: a.catchUp, missed: matching.length },
        });
      }
    }
  }

  // ---- coalescing ----

  /** Adds an event to the action's burst; the newest event's data wins. */
  private gather(action: DevAction, cause: string, data: Record<string, string>): Gathering {
    const now = Date.now();
    let g = this.gathering.get(action.id);
    if (!g) {
      const debounceMs = 'debounce' in action.trigger && action.trigger.debounce ? parseDuration(action.trigger.debounce, 'debounce') : DEFAULT_DEBOUNCE_MS;
      g = { action, debounceMs, firstAt: now, lastAt: now, timer: undefined, cause, data, count: 0, events: 0 };
      this.gathering.set(action.id, g);
      this.arm(g, debounceMs);
    }
    g.lastAt = now;
    g.cause = cause;
    g.data = data;
    g.events++;
    return g;
  }

  /**
   * One timer per burst, not one per event: when it fires early (events kept coming) it is
   * set again for the rest of the quiet time, until the burst has lasted too long to wait more.
   */
  private arm(g: Gathering, ms: number): void {
    g.timer = setTimeout(() => {
      const now = Date.now();
      const quietFor = now - g.lastAt;
      const maxWait = Math.max(2000, 10 * g.debounceMs);
      if (quietFor < g.debounceMs && now - g.firstAt < maxWait) return this.arm(g, Math.min(g.debounceMs - quietFor, maxWait - (now - g.firstAt)));
      this.gathering.delete(g.action.id);
      const data = { ...g.data };
      if (g.files) {
        data[CHANGED_LIST] = [...g.files].join('\n');
        data.SDLC_CHANGED_COUNT = String(g.count);
      }
      this.push({ actionId: g.action.id, cause: g.cause, data, overlap: overlapOf(g.action.trigger), events: g.events });
    }, Math.max(0, ms));
    g.timer.unref?.();
  }

  private push(batch: DevBatch): void {
    this.ready.push(batch);
    this.opts.notify();
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.opts.notify();
  }
}

/** Only under queue-one and skip are a run's own writes dropped: a dev server (restart) does not write what it watches. */
function selfSuppressing(action: DevAction): boolean {
  const overlap = overlapOf(action.trigger);
  return overlap === 'queue-one' || overlap === 'skip';
}

export function overlapOf(t: Trigger): Overlap {
  return ('overlap' in t && t.overlap) || 'queue-one';
}

function branchMatches(pattern: string | undefined, branch: string | null): boolean {
  if (pattern === undefined) return true;
  return branch !== null && picomatch.isMatch(branch, pattern, { dot: true });
}

function gitMatches(t: Extract<Trigger, { kind: 'git' }>, change: GitChange): boolean {
  return t.git === change.event && branchMatches(t.branch, change.branch);
}

function gitData(change: GitChange): Record<string, string> {
  return {
    SDLC_EVENT: 'git',
    SDLC_GIT_EVENT: change.event,
    SDLC_GIT_BRANCH: change.branch ?? '',
    SDLC_GIT_COMMIT: change.commit ?? '',
    SDLC_GIT_PREVIOUS: change.previous ?? '',
  };
}

