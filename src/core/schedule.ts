// When recurring actions fall due: next occurrences of cron and interval triggers, and the
// catch-up rule for occurrences that passed while nothing was running.
import { Cron } from 'croner';
import { parseDuration } from './duration';
import { ValidationError } from './errors';
import type { CatchUpPolicy, Trigger } from './model';

const cronCache = new Map<string, Cron>();

/** A parsed cron schedule (cached: the tick asks for the same few schedules repeatedly). */
export function cronFor(expr: string, tz?: string): Cron {
  const cacheKey = `${tz ?? ''}\u0000${expr}`;
  let cron = cronCache.get(cacheKey);
  if (!cron) {
    cron = new Cron(expr, { paused: true, timezone: tz });
    if (cronCache.size > 500) cronCache.clear();
    cronCache.set(cacheKey, cron);
  }
  return cron;
}

/** Checks a cron expression and zone; returns the next `count` run times after `fromMs`. */
export function validateCron(expr: string, tz: string | undefined, fromMs: number, count = 3): number[] {
  const text = String(expr ?? '').trim();
  if (!text) throw new ValidationError('cron', 'cron expression is empty; write 5 fields (min hour day month weekday), e.g. "*/5 * * * *"');
  const fields = text.split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new ValidationError(
      'cron',
      `cron expression "${text}" has ${fields} field${fields === 1 ? '' : 's'}; write 5 (min hour day month weekday) or 6 (with seconds first), e.g. "*/5 * * * *"`,
    );
  }
  if (tz !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
    } catch {
      throw new ValidationError('tz', `time zone "${tz}" is unknown; use an IANA name such as "Europe/Berlin" or "UTC"`);
    }
  }
  let runs: Date[];
  try {
    runs = cronFor(text, tz).nextRuns(count, new Date(fromMs));
  } catch (err) {
    const why = (err as Error).message.replace(/^CronPattern: /, '');
    throw new ValidationError('cron', `cron expression "${text}" is invalid: ${why}`);
  }
  if (runs.length === 0) throw new ValidationError('cron', `cron expression "${text}" never runs (no matching date); check the day and month fields`);
  return runs.map((d) => d.getTime());
}

/** The first occurrence strictly after `afterMs`, or null if there is none. */
export function nextOccurrence(trigger: Trigger, afterMs: number): number | null {
  switch (trigger.kind) {
    case 'cron': {
      const next = cronFor(trigger.cron, trigger.tz).nextRun(new Date(afterMs));
      return next ? next.getTime() : null;
    }
    case 'every':
      return afterMs + parseDuration(trigger.every, 'every');
    default:
      return null;
  }
}

/** Bounds the work spent walking a long gap of missed occurrences (a laptop asleep for days). */
const MAX_WALK = 10_000;

/**
 * Decides what to do with a recurring action found due at `nowMs` whose nominal due time
 * is `dueAtMs`. Returns `run` with the occurrence the run stands for (its next one is
 * computed from that), or `skip` with the next due time.
 * - skip: an occurrence late by more than `graceMs` is not run; the next one after now is scheduled
 * - once: one run now stands for every occurrence up to now
 * - all:  runs each missed occurrence in turn, oldest first, at most `limit` of them
 */
export function planRecurring(
  trigger: Trigger,
  dueAtMs: number,
  nowMs: number,
  policy: CatchUpPolicy,
  limit: number,
  graceMs: number,
): { kind: 'run'; occurrence: number; missed: number } | { kind: 'skip'; next: number | null; missed: number } {
  // Occurrences after the due one that have also passed.
  const passed: number[] = [];
  let t = dueAtMs;
  for (let i = 0; i < MAX_WALK; i++) {
    const n = nextOccurrence(trigger, t);
    if (n === null || n > nowMs) break;
    passed.push(n);
    t = n;
  }
  switch (policy) {
    case 'skip':
      if (nowMs - dueAtMs <= graceMs && passed.length === 0) return { kind: 'run', occurrence: dueAtMs, missed: 0 };
      return { kind: 'skip', next: nextOccurrence(trigger, nowMs), missed: passed.length + 1 };
    case 'once':
      return { kind: 'run', occurrence: passed.length ? passed[passed.length - 1] : dueAtMs, missed: passed.length };
    case 'all': {
      const all = [dueAtMs, ...passed];
      const keep = all.slice(Math.max(0, all.length - Math.max(1, limit)));
      return { kind: 'run', occurrence: keep[0], missed: all.length - keep.length };
    }
  }
}
