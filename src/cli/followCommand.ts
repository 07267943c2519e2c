// `events --follow`: prints each lifecycle event as the folder's owner commits it, and keeps
// going until interrupted. It only reads (it never takes the folder over), so it follows an
// owner in VS Code or in another terminal alike, and goes on across that owner's restarts.
// Started again with `--since` the last seq it printed, it misses nothing and repeats nothing;
// asked for a seq that retention has pruned, it says so (a `reset` line) instead of skipping.
import * as fs from 'fs';
import { actionJson, eventJson, runJson } from '../core/api/json';
import { silentLogger } from '../core/log';
import type { LifecycleEvent } from '../core/model';
import { sdlcPaths } from '../core/paths';
import { DurableDatabase } from '../core/store/database';
import { loadSqlJs } from '../core/store/sqljs';
import { eventText } from './format';

/** How often the files are looked at when no change was signalled (a watcher can miss events). */
const POLL_MS = 250;
const PAGE = 1000;

export interface FollowOptions {
  workspace: string;
  since: number | undefined;
  json: boolean;
  /** Resolves to stop following (tests); by default, SIGINT or SIGTERM. */
  until?: Promise<void>;
}

export async function followEvents(o: FollowOptions, out: (text: string) => boolean | void): Promise<number> {
  const paths = sdlcPaths(o.workspace);
  const SQL = await loadSqlJs();
  const db = DurableDatabase.open(SQL, paths, { mode: 'reader', log: silentLogger, now: Date.now });
  let seq = o.since ?? db.store.lastSeq();
  const print = (e: LifecycleEvent) => out(o.json ? `${JSON.stringify(eventJson(e))}\n` : `${eventText(e)}\n`);
  const reset = (reason: string) => {
    const last = db.store.lastSeq();
    if (o.json) {
      const state = { paused: db.store.getMeta('paused') === '1', actions: db.store.activeActions().map(actionJson), running: db.store.runningRuns().map(runJson) };
      out(`${JSON.stringify({ type: 'reset', seq: last, reason, state })}\n`);
    } else out(`reset: ${reason}; following from seq ${last}\n`);
    seq = last;
  };
  const drain = () => {
    const first = db.store.eventsHead(1)[0]?.seq;
    const last = db.store.lastSeq();
    if (seq > last) reset(`the log has no seq ${seq}: the database was replaced or its history cleared`);
    else if (first !== undefined && seq + 1 < first) reset(`events after ${seq} were removed by retention (the oldest left is ${first})`);
    for (;;) {
      const page = db.store.eventsSince(seq, PAGE);
      for (const e of page) {
        print(e);
        seq = e.seq;
      }
      if (page.length < PAGE) return;
    }
  };
  let wake: (() => void) | undefined;
  const changed = () => wake?.();
  let watcher: fs.FSWatcher | undefined;
  try {
    fs.mkdirSync(paths.dir, { recursive: true });
    watcher = fs.watch(paths.dir, { persistent: false }, changed);
    watcher.on('error', () => undefined); // polling still covers it
  } catch {
    // polling only
  }
  let stopping = false;
  const stop = () => {
    stopping = true;
    changed();
  };
  const signals = o.until ? [] : (['SIGINT', 'SIGTERM'] as const);
  for (const s of signals) process.once(s, stop);
  void o.until?.then(stop);
  try {
    drain();
    while (!stopping) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
      if (stopping) break;
      try {
        if (db.refresh()) drain();
      } catch (err) {
        // The owner is mid-snapshot or the file is being replaced: look again next time.
        if (!/ENOENT|EBUSY/.test((err as Error).message)) throw err;
      }
    }
    return 0;
  } finally {
    for (const s of signals) process.off(s, stop);
    watcher?.close();
    db.close({ snapshot: false });
  }
}
