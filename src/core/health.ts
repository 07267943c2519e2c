// How an action has been doing, from its latest runs: how often it succeeds, how long it takes
// and whether that is growing, its last failure, and whether it is flaky (it flips between
// success and failure while its definition stays the same). Each figure comes from one bounded
// walk of the runs_action index: never all the runs.
import type { Store } from './store/store';

export const HEALTH_RUNS = 50;
/** How far back the last failure is looked for. */
const FAILURE_LOOKBACK = 1000;

export interface Health {
  actionId: string;
  /** Ended runs looked at (at most HEALTH_RUNS). */
  runs: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Of the runs that ended succeeded or failed; null with none. */
  successRate: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  /** Durations of the succeeded and failed runs, oldest first (the sparkline). */
  durations: number[];
  /** The newer half's median against the older half's; null with fewer than 6 runs. */
  trend: { ratio: number; word: 'slower' | 'faster' | 'steady' } | null;
  lastFailure?: { runId: string; endedAt: number; exitCode: number | null; reason: string | null };
  /** Switches between success and failure since the definition last changed. */
  flips: number;
  flaky: boolean;
  lastRunAt: number | null;
}

function quantile(sorted: number[], q: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const medianOf = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5)!;

export function healthOf(store: Store, actionId: string, n = HEALTH_RUNS): Health {
  const newest = store.recentEnded(actionId, n);
  const chrono = [...newest].reverse();
  const count = (s: string) => newest.filter((r) => r.status === s).length;
  const succeeded = count('succeeded');
  const failed = count('failed');
  const timed = chrono.filter((r) => r.status !== 'cancelled');
  const durations = timed.map((r) => Math.max(0, r.endedAt - r.startedAt));
  const sorted = [...durations].sort((a, b) => a - b);
  let trend: Health['trend'] = null;
  if (durations.length >= 6) {
    const half = Math.floor(durations.length / 2);
    const older = medianOf(durations.slice(0, half));
    const newer = medianOf(durations.slice(durations.length - half));
    const ratio = older > 0 ? newer / older : newer > 0 ? Infinity : 1;
    // Under 50 ms of difference is noise, whatever the ratio.
    const word = Math.abs(newer - older) < 50 ? 'steady' : ratio >= 1.25 ? 'slower' : ratio <= 0.8 ? 'faster' : 'steady';
    trend = { ratio, word };
  }
  // Flaky: it keeps changing its mind with nothing changed; a fix (or a break) that came with a
  // new definition is not flakiness, so only runs since the definition last changed count.
  const definedAt = store.definedAt(actionId) ?? 0;
  const outcomes = timed.filter((r) => r.startedAt >= definedAt).map((r) => r.status);
  let flips = 0;
  for (let i = 1; i < outcomes.length; i++) if (outcomes[i] !== outcomes[i - 1]) flips++;
  const ok = outcomes.filter((s) => s === 'succeeded').length;
  const flaky = flips >= 3 && ok >= 2 && outcomes.length - ok >= 2;
  const lastFailure = store.lastFailure(actionId, FAILURE_LOOKBACK);
  return {
    actionId,
    runs: newest.length,
    succeeded,
    failed,
    cancelled: count('cancelled'),
    successRate: succeeded + failed ? succeeded / (succeeded + failed) : null,
    p50Ms: quantile(sorted, 0.5),
    p95Ms: quantile(sorted, 0.95),
    durations,
    trend,
    ...(lastFailure ? { lastFailure } : {}),
    flips,
    flaky,
    lastRunAt: newest[0]?.endedAt ?? null,
  };
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** A sparkline of durations in block characters (the CLI's; the panel draws its own). */
export function sparkline(values: number[], width = 20): string {
  const v = values.slice(-width);
  if (!v.length) return '';
  const max = Math.max(...v);
  const min = Math.min(...v);
  return v.map((x) => BLOCKS[max === min ? 3 : Math.round(((x - min) / (max - min)) * (BLOCKS.length - 1))]).join('');
}
