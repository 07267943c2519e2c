// Wake-ups at a due time, to a tenth of a millisecond, without holding the thread.
//
// setTimeout wakes 0.5–1 ms after the time asked for, on average 0.8 ms here: libuv sleeps in
// whole milliseconds counted from a clock it has rounded down, so the fraction of a millisecond
// that had passed when it went to sleep is added to every wake-up. For a run that is due, that
// is most of its due-to-start latency. One worker thread per process (shared by every folder)
// sleeps in Atomics.wait, whose timeout is exact to about 0.1 ms when it is short, and posts a
// message the moment Date.now() reaches the earliest time asked for. It uses no CPU while it
// waits. The caller keeps a setTimeout a little later as well, so a wake-up is never lost if
// the worker cannot start or dies.
import { Worker } from 'worker_threads';

/**
 * A message takes about 0.2 ms to reach the main thread, so the worker posts this much early and
 * the main thread sleeps the rest (a sleep this short is far below anything a user or another
 * extension could notice, and shorter than the fsync every commit waits for).
 */
const LEAD_MS = 0.15;
const MAX_FINAL_SLEEP_MS = 0.5;
/** A worker thread holds about 10 MB: it is ended when nothing has asked for a wake-up this long. */
const RETIRE_AFTER_MS = 5 * 60_000;

/**
 * The worker's loop, run from this source (nothing to bundle). The shared cells are the
 * generation (changed by every new target, which ends a wait) and the target in Date.now() ms.
 * Long waits overshoot by up to half a millisecond, so it sleeps until 1.5 ms before the target
 * by the coarse clock, then aims at the target by the fine one (whose millisecond boundaries are
 * Date.now()'s to within microseconds), a little early by what a short wait overshoots.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('worker_threads');
const gen = new Int32Array(workerData, 0, 1);
const target = new Float64Array(workerData, 8, 1);
const OVERSHOOT_MS = 0.09;
const LEAD_MS = ${LEAD_MS};
for (;;) {
  const g = Atomics.load(gen, 0);
  const at = target[0];
  if (!(at > 0)) { Atomics.wait(gen, 0, g); continue; }
  const wall = Date.now();
  const fine = performance.timeOrigin + performance.now();
  if (wall >= at || (at - wall <= 1 && fine >= at - LEAD_MS)) {
    parentPort.postMessage(g);
    Atomics.wait(gen, 0, g); // until the next target
    continue;
  }
  if (at - wall > 2) { Atomics.wait(gen, 0, g, at - wall - 1.5); continue; }
  const rest = at - LEAD_MS - fine;
  Atomics.wait(gen, 0, g, Math.max(0.01, rest - OVERSHOOT_MS));
}
`;

interface Pending {
  at: number;
  fn: () => void;
}

export interface WakeHandle {
  cancel(): void;
}

class PreciseWaker {
  private worker: Worker | undefined;
  private broken = false;
  private readonly gen: Int32Array;
  private readonly target: Float64Array;
  private readonly pending = new Set<Pending>();
  private retireTimer: NodeJS.Timeout | undefined;
  /** Never notified: only slept on. */
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor() {
    const shared = new SharedArrayBuffer(16);
    this.gen = new Int32Array(shared, 0, 1);
    this.target = new Float64Array(shared, 8, 1);
  }

  /** Calls `fn` once Date.now() reaches `at`; undefined when no worker can run here. */
  wakeAt(at: number, fn: () => void): WakeHandle | undefined {
    if (!this.started()) return undefined;
    const p: Pending = { at, fn };
    this.pending.add(p);
    this.arm();
    return {
      cancel: () => {
        if (this.pending.delete(p)) this.arm();
      },
    };
  }

  private started(): boolean {
    if (this.worker) return true;
    if (this.broken) return false;
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: this.gen.buffer, name: 'sdlc-orchestrator wake-ups' });
      worker.on('message', () => this.fire());
      worker.on('error', () => this.lose());
      worker.on('exit', () => this.worker === worker && this.lose());
      worker.unref(); // after the listeners (which ref it): the caller's own timer keeps a process alive, or not
      this.worker = worker;
      return true;
    } catch {
      this.broken = true;
      return false;
    }
  }

  /** The worker is gone: the callers' own timers take over (each is a little later). */
  private lose(): void {
    this.worker = undefined;
    this.broken = true;
    this.pending.clear();
  }

  private retire(): void {
    const worker = this.worker;
    if (!worker || this.pending.size) return;
    this.worker = undefined; // its exit is then not a loss: the next wake-up starts a new one
    void worker.terminate();
  }

  private fire(): void {
    const first = Math.min(...[...this.pending].map((p) => p.at));
    const rest = first - (performance.timeOrigin + performance.now());
    if (rest > 0 && rest <= MAX_FINAL_SLEEP_MS) {
      Atomics.wait(this.sleeper, 0, 0, rest);
      // The two clocks agree to within microseconds; a few short sleeps at most cover the rest.
      for (let i = 0; i < 5 && Date.now() < first; i++) Atomics.wait(this.sleeper, 0, 0, 0.02);
    }
    const now = Date.now();
    const due = [...this.pending].filter((p) => p.at <= now).sort((a, b) => a.at - b.at);
    for (const p of due) this.pending.delete(p);
    this.arm(due.length === 0); // woken a little early: ask again
    for (const p of due) p.fn();
  }

  /** Points the worker at the earliest time still wanted (or at nothing). */
  private arm(again = false): void {
    let earliest = 0;
    for (const p of this.pending) if (!earliest || p.at < earliest) earliest = p.at;
    if (this.retireTimer) clearTimeout(this.retireTimer);
    this.retireTimer = earliest ? undefined : setTimeout(() => this.retire(), RETIRE_AFTER_MS).unref();
    if (this.target[0] === earliest && !again) return;
    this.target[0] = earliest;
    Atomics.add(this.gen, 0, 1);
    Atomics.notify(this.gen, 0);
  }
}

let shared: PreciseWaker | undefined;

/** Calls `fn` once Date.now() reaches `at` (one worker for the whole process); undefined if it cannot. */
export function wakeAt(at: number, fn: () => void): WakeHandle | undefined {
  shared ??= new PreciseWaker();
  return shared.wakeAt(at, fn);
}
