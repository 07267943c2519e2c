// The Gantt view's arithmetic, apart from the canvas that draws it (pure: tested and benched in
// plain Node): one lane per action, each run a bar from start to end, runs of one action that
// overlap stacked in rows of the lane, the wait for a slot (queued → started) in front of the bar,
// what a viewport shows, the time axis, and where the arrow keys go.
import type { RunStatus } from '../src/core/model';

export interface GanttRun {
  runId: string;
  actionId: string;
  name: string;
  status: RunStatus;
  startedAt: number;
  endedAt: number | null;
  queuedAt?: number | null;
  attempt: number;
  exitCode: number | null;
}

export interface Lane {
  actionId: string;
  name: string;
  /** Its runs by start, each with the row of the lane it sits in (overlapping runs stack). */
  bars: { run: GanttRun; row: number }[];
  rows: number;
  /** Where the lane begins, in rows from the top of the chart. */
  top: number;
}

export interface GanttLayout {
  lanes: Lane[];
  rows: number;
  runs: number;
}

export const WINDOWS = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 } as const;

/**
 * The view a window opens on: the span of its runs with a margin (runs of the last minute are
 * not squeezed into a sliver of an hour), never more than the window, and ending at `now`.
 */
export function fitView(runs: Iterable<GanttRun>, windowMs: number, now: number, widthPx: number): Viewport {
  let first = now;
  for (const r of runs) first = Math.min(first, r.queuedAt ?? r.startedAt);
  const span = Math.min(windowMs, Math.max(10_000, (now - first) * 1.08));
  return { from: now - span, spanMs: span, widthPx };
}
export type GanttWindow = keyof typeof WINDOWS;

/** Lanes by action name; within a lane, each run in the first row free when it starts. */
export function layoutGantt(runs: Iterable<GanttRun>, now: number): GanttLayout {
  const byAction = new Map<string, GanttRun[]>();
  let count = 0;
  for (const r of runs) {
    count++;
    const list = byAction.get(r.actionId);
    if (list) list.push(r);
    else byAction.set(r.actionId, [r]);
  }
  const lanes: Lane[] = [];
  for (const [actionId, list] of byAction) {
    list.sort((a, b) => a.startedAt - b.startedAt || (a.runId < b.runId ? -1 : 1));
    const rowEnds: number[] = [];
    // Rows stack runs that ran at the same time; a wait for a slot is drawn as a thin line
    // in front of its bar and may pass under the run it waited for.
    const bars = list.map((run) => {
      const from = run.startedAt;
      let row = rowEnds.findIndex((end) => end <= from);
      if (row < 0) row = rowEnds.push(0) - 1;
      rowEnds[row] = run.endedAt ?? now;
      return { run, row };
    });
    lanes.push({ actionId, name: list[list.length - 1].name, bars, rows: Math.max(1, rowEnds.length), top: 0 });
  }
  lanes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let top = 0;
  for (const l of lanes) {
    l.top = top;
    top += l.rows;
  }
  return { lanes, rows: top, runs: count };
}

export interface Viewport {
  /** The time at the left edge and the width of the chart in ms and px. */
  from: number;
  spanMs: number;
  widthPx: number;
}

export interface BarRect {
  lane: number;
  bar: number;
  x: number;
  w: number;
  /** The wait for a slot, in front of the bar (0 when it started when due). */
  qx: number;
  qw: number;
  row: number;
  status: RunStatus;
}

/** The bars a viewport shows, in pixels: at least 2 px wide so that a short run is still seen. */
export function visibleBars(layout: GanttLayout, v: Viewport, now: number): BarRect[] {
  const scale = v.widthPx / v.spanMs;
  const to = v.from + v.spanMs;
  const out: BarRect[] = [];
  layout.lanes.forEach((lane, li) => {
    const bars = lane.bars;
    for (let bi = 0; bi < bars.length; bi++) {
      const r = bars[bi].run;
      const queued = r.queuedAt ?? r.startedAt;
      if (queued > to) continue; // (sorted by start; a long wait can still reach back into view)
      const end = r.endedAt ?? now;
      if (end < v.from) continue;
      const x = (r.startedAt - v.from) * scale;
      const qx = (queued - v.from) * scale;
      out.push({ lane: li, bar: bi, x, w: Math.max(2, (end - r.startedAt) * scale), qx, qw: Math.max(0, x - qx), row: lane.top + bars[bi].row, status: r.status });
    }
  });
  return out;
}

/** Round steps for the time axis: about one label every `minPx` pixels. */
const STEPS = [1000, 5000, 15_000, 30_000, 60_000, 300_000, 900_000, 1_800_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000, 12 * 3_600_000, 86_400_000];

export function axisTicks(v: Viewport, minPx = 90): number[] {
  const per = (v.spanMs / v.widthPx) * minPx;
  const step = STEPS.find((s) => s >= per) ?? STEPS[STEPS.length - 1];
  const ticks: number[] = [];
  for (let t = Math.ceil(v.from / step) * step; t <= v.from + v.spanMs; t += step) ticks.push(t);
  return ticks;
}

export interface Cursor {
  lane: number;
  bar: number;
}

/** Where an arrow key goes from a bar: along its lane in time, or to the nearest bar in time of the lane above or below. */
export function moveCursor(layout: GanttLayout, c: Cursor | undefined, key: string): Cursor | undefined {
  const lanes = layout.lanes;
  if (!lanes.length) return undefined;
  if (!c) return { lane: 0, bar: Math.max(0, lanes[0].bars.length - 1) };
  const lane = lanes[c.lane];
  switch (key) {
    case 'ArrowLeft':
      return { lane: c.lane, bar: Math.max(0, c.bar - 1) };
    case 'ArrowRight':
      return { lane: c.lane, bar: Math.min(lane.bars.length - 1, c.bar + 1) };
    case 'Home':
      return { lane: c.lane, bar: 0 };
    case 'End':
      return { lane: c.lane, bar: lane.bars.length - 1 };
    case 'ArrowUp':
    case 'ArrowDown': {
      const to = c.lane + (key === 'ArrowUp' ? -1 : 1);
      if (to < 0 || to >= lanes.length) return c;
      const t = lane.bars[c.bar]?.run.startedAt ?? 0;
      const bars = lanes[to].bars;
      let best = 0;
      for (let i = 1; i < bars.length; i++) if (Math.abs(bars[i].run.startedAt - t) < Math.abs(bars[best].run.startedAt - t)) best = i;
      return { lane: to, bar: best };
    }
    default:
      return c;
  }
}
