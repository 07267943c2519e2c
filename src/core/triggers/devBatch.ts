// A settled burst of development events as the owner's tick applies it. Kept apart from the
// watchers so that the transitions (and a CLI `add`) never load them.
import type { CatchUpPolicy, Overlap } from '../model';

/** One settled burst of events for one action: what its run is told. */
export interface DevBatch {
  actionId: string;
  cause: string;
  /** Environment for the run; `CHANGED_LIST` holds the changed paths (not passed as a variable). */
  data: Record<string, string>;
  overlap: Overlap;
  /** Events folded into this batch (a burst of 10,000 saves is one batch). */
  events: number;
  /** Found at start: happened while no orchestrator ran (the catch-up policy applies). */
  catchUp?: { policy: CatchUpPolicy; missed: number };
}

/** The run-data key that carries the changed paths; written to a file at dispatch. */
export const CHANGED_LIST = '_changed';
/** At most this many paths are kept per run (the count stays exact). */
export const MAX_CHANGED_PATHS = 1000;

/** Two bursts' changed files as one: the paths together (capped), the count added up when a list was capped. */
export function mergeChanged(older: Record<string, string>, newer: Record<string, string>): Record<string, string> {
  if (newer[CHANGED_LIST] === undefined || older[CHANGED_LIST] === undefined) return newer;
  const a = older[CHANGED_LIST].split('\n');
  const b = newer[CHANGED_LIST].split('\n');
  const all = new Set([...a, ...b]);
  const complete = Number(older.SDLC_CHANGED_COUNT) === a.length && Number(newer.SDLC_CHANGED_COUNT) === b.length;
  const count = complete ? all.size : Number(older.SDLC_CHANGED_COUNT) + Number(newer.SDLC_CHANGED_COUNT);
  return { ...newer, [CHANGED_LIST]: [...all].slice(0, MAX_CHANGED_PATHS).join('\n'), SDLC_CHANGED_COUNT: String(count) };
}
