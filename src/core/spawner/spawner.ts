// The engine's side of the spawner processes (spawnerProcess.ts), shared by every runner of
// the engine's process. The first starts at the first run; a second joins only while a burst
// keeps the first busy, because each spawn() holds a spawner's one thread until the child has
// exec'd, so one process spawns at most one child at a time. With two, two children are
// being spawned at once on two cores (10,000 bare spawns: 7.4 s against 9.1 s with one).
// A spawner with no runs in flight for IDLE_MS exits, so a quiet engine keeps one.
// If none can be started (a host that cannot fork Node, a missing file) or they keep dying,
// runs are spawned from the engine's own process as before: slower in bursts, never lost.
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { SpawnerReply, SpawnerRequest } from './spawnerProtocol';

/** Beside this file in out/ and in the bundle (dist/spawnerProcess.js). */
const HELPER = path.join(__dirname, 'spawnerProcess.js');
const MAX_RESTARTS = 3;
/** One spawner per core, at most two: a third would only wait for a core. */
const MAX_HELPERS = Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));
/** A second spawner is started when the first has this many spawns asked for and not yet answered. */
const BUSY_SPAWNS = 2;
/** An extra spawner with nothing in flight this long exits (about 35 MB each). */
const IDLE_MS = 30_000;

export interface SpawnWatch {
  spawned(pid: number): void;
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  error(message: string): void;
  /** The spawner process ended with this run in flight: its pid (if known) is all there is. */
  lost(): void;
}

/** One spawner process and the runs it started. */
class Helper {
  /** Every run it started and has not said the end of. */
  readonly watching = new Map<number, SpawnWatch>();
  /** Spawns asked for and not yet answered: what it has still to do. */
  private starting = new Set<number>();
  private queued: SpawnerRequest[] = [];
  private idle: NodeJS.Timeout | undefined;

  constructor(
    readonly child: ChildProcess,
    private readonly retire: ((h: Helper) => void) | undefined,
    private readonly idleMs: number,
  ) {
    child.on('message', (replies: SpawnerReply[]) => {
      for (const reply of replies) {
        const watch = this.watching.get(reply.id);
        this.starting.delete(reply.id);
        if (!watch) continue;
        if (reply.t === 'spawned') {
          watch.spawned(reply.pid);
          continue;
        }
        this.watching.delete(reply.id);
        if (reply.t === 'exit') watch.exit(reply.code, reply.signal);
        else watch.error(reply.message);
      }
      this.armIdle();
    });
  }

  get pending(): number {
    return this.starting.size;
  }

  send(req: SpawnerRequest, watch: SpawnWatch): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    this.watching.set(req.id, watch);
    this.starting.add(req.id);
    // Sent with the others asked for in this turn (a tick starts many), in one message.
    if (this.queued.length === 0) queueMicrotask(() => this.flush());
    this.queued.push(req);
  }

  private flush(): void {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    try {
      this.child.send(batch);
    } catch {
      // The spawner went away meanwhile: these runs are lost as if it had died with them.
      for (const req of batch) {
        const watch = this.watching.get(req.id);
        this.watching.delete(req.id);
        this.starting.delete(req.id);
        watch?.lost();
      }
    }
  }

  /** An extra spawner with nothing in flight goes after idleMs (the first stays). */
  private armIdle(): void {
    const retire = this.retire;
    if (!retire || this.watching.size > 0 || this.idle) return;
    this.idle = setTimeout(() => {
      this.idle = undefined;
      if (this.watching.size === 0 && this.queued.length === 0) retire(this);
    }, this.idleMs);
    this.idle.unref();
  }

  /** Every run in flight, handed back when the process has gone. */
  drop(): SpawnWatch[] {
    if (this.idle) clearTimeout(this.idle);
    const lost = [...this.watching.values()];
    this.watching.clear();
    this.starting.clear();
    this.queued = [];
    return lost;
  }
}

export interface SpawnerOptions {
  maxHelpers: number;
  busySpawns: number;
  idleMs: number;
}

export class Spawner {
  private helpers: Helper[] = [];
  private nextId = 1;
  private deaths = 0;
  private disabled = process.platform === 'win32' || process.env.SDLC_SPAWNER === 'off';

  constructor(private opts: SpawnerOptions = { maxHelpers: MAX_HELPERS, busySpawns: BUSY_SPAWNS, idleMs: IDLE_MS }) {}

  /** The spawner processes' pids (the bench reads their CPU time). */
  get pids(): number[] {
    return this.helpers.map((h) => h.child.pid).filter((p): p is number => p !== undefined);
  }

  /** Starts `file args` from a spawner process; false when there is none to use (spawn directly). */
  spawn(req: Omit<SpawnerRequest, 't' | 'id'>, watch: SpawnWatch): boolean {
    const helper = this.choose();
    if (!helper?.child.connected) return false;
    helper.send({ t: 'spawn', id: this.nextId++, ...req }, watch);
    return true;
  }

  /** The least busy spawner; a second one is started when the first has spawns waiting. */
  private choose(): Helper | undefined {
    if (this.helpers.length === 0) return this.start(false);
    let best = this.helpers[0];
    for (const h of this.helpers) if (h.pending < best.pending) best = h;
    if (best.pending >= this.opts.busySpawns && this.helpers.length < this.opts.maxHelpers) return this.start(true) ?? best;
    return best;
  }

  private start(extra: boolean): Helper | undefined {
    if (this.disabled || !fs.existsSync(HELPER)) return undefined;
    let child: ChildProcess;
    try {
      child = fork(HELPER, [], { execArgv: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' });
    } catch {
      // No first spawner: spawn directly from now on. No second: go on with one.
      if (extra) this.opts = { ...this.opts, maxHelpers: this.helpers.length };
      else this.disabled = true;
      return undefined;
    }
    // Never what keeps the engine's process alive: its own loop and runs do that.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    const helper = new Helper(child, extra ? (h) => this.retire(h) : undefined, this.opts.idleMs);
    const gone = () => {
      const at = this.helpers.indexOf(helper);
      if (at < 0) return;
      this.helpers.splice(at, 1);
      if (++this.deaths >= MAX_RESTARTS) this.disabled = true;
      for (const w of helper.drop()) w.lost();
    };
    child.on('exit', gone);
    child.on('error', gone);
    this.helpers.push(helper);
    return helper;
  }

  /** An idle extra spawner leaves: closing its channel ends it (see spawnerProcess.ts). */
  private retire(helper: Helper): void {
    const at = this.helpers.indexOf(helper);
    if (at < 0) return;
    this.helpers.splice(at, 1);
    helper.drop();
    helper.child.disconnect();
  }
}

export const spawner = new Spawner();
