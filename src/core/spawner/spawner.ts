// The engine's side of the spawner process (spawnerProcess.ts): one per engine process,
// started at the first run and shared by every runner. If it cannot be started (a host that
// cannot fork Node, a missing file) or keeps dying, runs are spawned from the engine's own
// process as before: slower in bursts, never lost.
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { SpawnerReply, SpawnerRequest } from './spawnerProtocol';

/** Beside this file in out/ and in the bundle (dist/spawnerProcess.js). */
const HELPER = path.join(__dirname, 'spawnerProcess.js');
const MAX_RESTARTS = 3;

export interface SpawnWatch {
  spawned(pid: number): void;
  exit(code: number | null, signal: NodeJS.Signals | null): void;
  error(message: string): void;
  /** The spawner process ended with this run in flight: its pid (if known) is all there is. */
  lost(): void;
}

class Spawner {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly watching = new Map<number, SpawnWatch>();
  private deaths = 0;
  private queued: SpawnerRequest[] = [];
  private disabled = process.platform === 'win32' || process.env.SDLC_SPAWNER === 'off';

  /** Starts `file args` from the spawner process; false when there is none to use (spawn directly). */
  spawn(req: Omit<SpawnerRequest, 't' | 'id'>, watch: SpawnWatch): boolean {
    const child = this.ensure();
    if (!child?.connected) return false;
    const id = this.nextId++;
    this.watching.set(id, watch);
    // Sent with the others asked for in this turn (a tick starts many), in one message.
    if (this.queued.length === 0) queueMicrotask(() => this.flush());
    this.queued.push({ t: 'spawn', id, ...req });
    return true;
  }

  private flush(): void {
    const batch = this.queued;
    this.queued = [];
    if (batch.length === 0) return;
    try {
      if (!this.child) throw new Error('gone');
      this.child.send(batch);
    } catch {
      // The spawner went away meanwhile: these runs are lost as if it had died with them.
      for (const req of batch) {
        const watch = this.watching.get(req.id);
        this.watching.delete(req.id);
        watch?.lost();
      }
    }
  }

  private ensure(): ChildProcess | undefined {
    if (this.child) return this.child;
    if (this.disabled || !fs.existsSync(HELPER)) return undefined;
    let child: ChildProcess;
    try {
      child = fork(HELPER, [], { execArgv: [], stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json' });
    } catch {
      this.disabled = true;
      return undefined;
    }
    // Never what keeps the engine's process alive: its own loop and runs do that.
    child.unref();
    (child.channel as { unref?: () => void } | undefined)?.unref?.();
    child.on('message', (replies: SpawnerReply[]) => {
      for (const reply of replies) {
        const watch = this.watching.get(reply.id);
        if (!watch) continue;
        if (reply.t === 'spawned') {
          watch.spawned(reply.pid);
          continue;
        }
        this.watching.delete(reply.id);
        if (reply.t === 'exit') watch.exit(reply.code, reply.signal);
        else watch.error(reply.message);
      }
    });
    const gone = () => {
      if (this.child !== child) return;
      this.child = undefined;
      if (++this.deaths >= MAX_RESTARTS) this.disabled = true;
      const lost = [...this.watching.values()];
      this.watching.clear();
      this.queued = [];
      for (const w of lost) w.lost();
    };
    child.on('exit', gone);
    child.on('error', gone);
    this.child = child;
    return child;
  }
}

export const spawner = new Spawner();
