// Sends what the outbox holds. A notification was written in the commit that recorded its
// run's end, so nothing is sent for an end that was not committed; it is sent from here, by the
// folder's owner, until the receiver accepts (2xx) or a day has passed. Every attempt is
// committed as a `notification.attempted` event. The same Idempotency-Key goes with every
// attempt, across restarts and owners: an attempt whose answer was lost (a crash between the
// receiver's 200 and our commit) is sent again, and the receiver drops the repeat.
import type { Logger } from '../log';
import type { Notification } from '../model';
import type { Store } from '../store/store';
import { redactTarget, resolveTarget } from './notifySpec';

export interface OutboxHost {
  readonly log: Logger;
  now(): number;
  isOwner(): boolean;
  store(): Store;
  /** Runs `fn` in a transaction and makes it durable now; throws (rolled back) if that fails. */
  commitNow(fn: () => void): void;
}

export interface OutboxOptions {
  /** Notifications being sent at once. */
  maxInFlight?: number;
  /** One attempt's limit. */
  timeoutMs?: number;
  /** The first retry's delay; it doubles each attempt up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** After this long without an accepting answer the notification is given up (failed). */
  giveUpAfterMs?: number;
}

export const OUTBOX_DEFAULTS: Required<OutboxOptions> = {
  maxInFlight: 4,
  timeoutMs: 10_000,
  backoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
  giveUpAfterMs: 86_400_000,
};

/** The longest sleep between looks at the outbox (a timer never sleeps past a clock jump for long). */
const MAX_SLEEP_MS = 30_000;
const MAX_ERROR = 300;

export class OutboxSender {
  private readonly inFlight = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private scanQueued = false;
  private running = false;
  private readonly opts: Required<OutboxOptions>;

  constructor(
    private readonly host: OutboxHost,
    options: OutboxOptions = {},
  ) {
    this.opts = { ...OUTBOX_DEFAULTS, ...options };
  }

  /** Starts sending (the folder is owned now): what a previous owner left pending goes first. */
  start(): void {
    this.running = true;
    this.kick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Something may be due (a run's end queued a notification): look at once, after the current commit. */
  kick(): void {
    if (!this.running || this.scanQueued) return;
    this.scanQueued = true;
    setImmediate(() => {
      this.scanQueued = false;
      this.scan();
    });
  }

  /** Attempts in flight, or a look at the outbox about to happen. */
  get busy(): boolean {
    return this.inFlight.size > 0 || this.scanQueued;
  }

  private scan(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running || !this.host.isOwner()) return;
    const now = this.host.now();
    const store = this.host.store();
    const free = this.opts.maxInFlight - this.inFlight.size;
    if (free > 0) {
      for (const n of store.dueNotifications(now, free + this.inFlight.size)) {
        if (this.inFlight.has(n.id) || this.inFlight.size >= this.opts.maxInFlight) continue;
        this.inFlight.add(n.id);
        void this.send(n).finally(() => {
          this.inFlight.delete(n.id);
          this.kick();
        });
      }
    }
    // Sleep until the next retry is due (the ones in flight reschedule when they answer).
    const next = store.nextNotificationAfter(now);
    if (next !== null) {
      this.timer = setTimeout(() => this.scan(), Math.min(MAX_SLEEP_MS, Math.max(10, next - now)));
      this.timer.unref();
    }
  }

  private async send(n: Notification): Promise<void> {
    const attempt = n.attempts + 1;
    const target = resolveTarget(n.target, process.env);
    let ok = false;
    let httpStatus: number | null = null;
    let error: string | null = null;
    let retryAfterMs: number | undefined;
    if ('error' in target) error = target.error;
    else {
      try {
        const res = await fetch(target.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': n.id, 'User-Agent': 'sdlc-orchestrator' },
          body: n.body,
          redirect: 'error',
          signal: AbortSignal.timeout(this.opts.timeoutMs),
        });
        httpStatus = res.status;
        ok = res.ok;
        const text = await res.text().catch(() => '');
        if (!ok) {
          error = `HTTP ${res.status}${text.trim() ? `: ${text.trim().slice(0, 120)}` : ''}`;
          const ra = Number(res.headers.get('retry-after'));
          if (Number.isFinite(ra) && ra > 0) retryAfterMs = Math.min(ra * 1000, 3_600_000);
        }
      } catch (err) {
        error = describe(err, target.url, n.target);
      }
    }
    if (!this.running || !this.host.isOwner()) return; // the next owner sends it again, with the same key
    const now = this.host.now();
    const gaveUp = !ok && now - n.createdAt >= this.opts.giveUpAfterMs;
    const nextAt = ok || gaveUp ? null : now + (retryAfterMs ?? Math.min(this.opts.backoffMs * 2 ** (attempt - 1), this.opts.maxBackoffMs));
    const status = ok ? 'sent' : gaveUp ? 'failed' : 'pending';
    const shortError = error && error.length > MAX_ERROR ? `${error.slice(0, MAX_ERROR)}…` : error;
    try {
      this.host.commitNow(() => {
        const store = this.host.store();
        if (store.write('attemptNotification', [status, attempt, nextAt ?? now, ok || gaveUp ? now : null, shortError, n.id]) === 0) return; // cleared meanwhile
        store.addEvent(now, 'notification.attempted', n.actionId, n.runId, { notification: n.id, attempt, ok, httpStatus, error: shortError, nextAt, gaveUp });
      });
    } catch (err) {
      this.host.log.warn(`could not record notification ${n.id}'s attempt: ${(err as Error).message}`);
      return;
    }
    const where = redactTarget(n.target);
    if (ok) this.host.log.info(`notification ${n.id.slice(0, 8)} sent to ${where} (attempt ${attempt})`);
    else if (gaveUp) this.host.log.warn(`notification ${n.id.slice(0, 8)} to ${where} given up after ${attempt} attempts: ${shortError}`);
    else this.host.log.info(`notification ${n.id.slice(0, 8)} to ${where} not accepted (${shortError}); trying again in ${Math.round((nextAt! - now) / 1000)} s`);
  }
}

/** A network error in a few words, never with the URL's secret path in it. */
function describe(err: unknown, url: string, target: string): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  const why = e.name === 'TimeoutError' ? 'no answer in time' : (e.cause?.code ?? e.cause?.message ?? e.message);
  return String(why).split(url).join(redactTarget(target));
}
