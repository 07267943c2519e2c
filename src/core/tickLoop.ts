// The game loop: one tick at a time, never overlapping; sleep until the next tick or the
// next thing due, whichever is first; wake early on notify(). Sleeps are capped so a clock
// jump or a laptop waking from sleep is noticed within the cap.

import { wakeAt as wakeAt_, type WakeHandle } from './preciseWake';

export interface TickLoopOptions {
  intervalMs: number;
  /** The longest single sleep; the clock is re-read after each. */
  maxSleepMs?: number;
  now: () => number;
  /** Whether the timer keeps the process alive (the CLI's `run` wants it to). */
  keepAlive?: boolean;
  /**
   * `now` is Date.now(): wake at a due time to a tenth of a millisecond (preciseWake.ts) rather
   * than setTimeout's 0.5–1 ms late. A test's own clock turns this off.
   */
  precise?: boolean;
}

/** The setTimeout kept under a precise wake-up fires this much later: only if that one is lost. */
const FALLBACK_MS = 2;

export class TickLoop {
  private timer: NodeJS.Timeout | undefined;
  private wake: WakeHandle | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private running = false;
  private nextTickAt = 0;
  private readonly maxSleepMs: number;

  constructor(
    /** Does one tick's work; returns the next time something is due (or null). */
    private readonly tick: () => number | null,
    private readonly opts: TickLoopOptions,
  ) {
    this.maxSleepMs = opts.maxSleepMs ?? 30_000;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextTickAt = this.opts.now();
    this.notify();
  }

  /** Something changed (a run finished, a request arrived): tick as soon as the current work is done. */
  notify(): void {
    if (!this.running || this.immediate) return;
    // Never unref'd: Node lets the event loop sleep past an unref'd immediate until some other
    // event wakes it (found by the burst benchmark: ticks ran ~50 ms late). It runs once, so
    // it cannot keep a process alive.
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      this.runTick();
    });
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.wake?.cancel();
    this.timer = this.immediate = this.wake = undefined;
  }

  private runTick(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.cancel();
    this.timer = this.wake = undefined;
    let nextDue: number | null = null;
    try {
      nextDue = this.tick();
    } finally {
      if (this.running) this.schedule(nextDue);
    }
  }

  private schedule(nextDue: number | null): void {
    const now = this.opts.now();
    // Ticks keep a steady beat from their own schedule (no drift). An early wake for something
    // due does not move the beat; a stall or a clock jump restarts it.
    if (now >= this.nextTickAt) this.nextTickAt += this.opts.intervalMs;
    if (this.nextTickAt <= now || this.nextTickAt > now + this.opts.intervalMs) this.nextTickAt = now + this.opts.intervalMs;
    const wakeAt = nextDue !== null ? Math.min(this.nextTickAt, nextDue) : this.nextTickAt;
    const delay = Math.max(0, Math.min(wakeAt - now, this.maxSleepMs));
    // Only a due time needs the precision; the housekeeping interval does not.
    this.wake = this.opts.precise && wakeAt === nextDue && delay > 0 && delay === wakeAt - now ? wakeAt_(wakeAt, () => this.runTick()) : undefined;
    this.timer = setTimeout(() => this.runTick(), this.wake ? delay + FALLBACK_MS : delay);
    if (!this.opts.keepAlive) this.timer.unref();
  }
}
