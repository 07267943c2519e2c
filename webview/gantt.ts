// The Gantt view: runs over time, one lane per action, drawn on a canvas (10,000 bars draw in a
// few milliseconds; only what the viewport shows is drawn). The window is picked (last hour,
// day, week), then zoomed (+ / −, Ctrl+wheel) and panned (wheel, drag). It is reachable by
// keyboard: the arrow keys move between runs, Enter opens one, and each run is read out in
// words as it is reached (a live region), the same words its tooltip shows.
import * as l10n from '@vscode/l10n';
import { displayText } from '../src/core/displayText';
import { shortDuration } from '../src/extension/model/relativeTime';
import { axisTicks, fitView, layoutGantt, moveCursor, visibleBars, WINDOWS, type BarRect, type Cursor, type GanttLayout, type GanttRun, type GanttWindow, type Viewport } from './ganttModel';
import { button, dropdown, el } from './ui/components';

const ROW_H = 20;
const AXIS_H = 22;

/** What the summary says, per window (whole sentences: a translation may order them its own way). */
const WINDOW_TEXT: Record<GanttWindow, (runs: number, actions: number) => string> = {
  hour: (runs, actions) => l10n.t('{0} run(s) of {1} action(s) in the last hour', runs, actions),
  day: (runs, actions) => l10n.t('{0} run(s) of {1} action(s) in the last day', runs, actions),
  week: (runs, actions) => l10n.t('{0} run(s) of {1} action(s) in the last week', runs, actions),
};
const NO_RUNS: Record<GanttWindow, () => string> = { hour: () => l10n.t('No runs in the last hour.'), day: () => l10n.t('No runs in the last day.'), week: () => l10n.t('No runs in the last week.') };

export interface GanttEvents {
  open(run: GanttRun): void;
  windowChanged(w: GanttWindow): void;
}

/** A run in words: what the bar shows. */
export function barText(r: GanttRun, now: number): string {
  const end = r.endedAt ?? now;
  const how = r.status === 'failed' && r.exitCode !== null ? l10n.t('failed (exit {0})', r.exitCode) : r.status;
  const waited = r.queuedAt !== null && r.queuedAt !== undefined && r.startedAt - r.queuedAt >= 1 ? l10n.t(', waited {0} for a slot', shortDuration(r.startedAt - r.queuedAt)) : '';
  const when = new Date(r.startedAt).toLocaleTimeString();
  const took = shortDuration(end - r.startedAt);
  const head = r.status === 'running' ? l10n.t('{0}: {1}, started {2}, for {3}', displayText(r.name), how, when, took) : l10n.t('{0}: {1}, started {2}, took {3}', displayText(r.name), how, when, took);
  return `${head}${waited}${r.attempt > 1 ? l10n.t(', attempt {0}', r.attempt) : ''}`;
}

export class GanttView {
  readonly element = el('section', 'gantt');
  private readonly runs = new Map<string, GanttRun>();
  private layout: GanttLayout = { lanes: [], rows: 0, runs: 0 };
  private window: GanttWindow = 'hour';
  private view: Viewport = { from: 0, spanMs: WINDOWS.hour, widthPx: 800 };
  private cursor: Cursor | undefined;
  private rects: BarRect[] = [];
  private frame = 0;
  private readonly canvas = el('canvas', 'gantt-canvas');
  private readonly labels = el('div', 'gantt-labels');
  private readonly summary = el('p', 'muted gantt-summary');
  private readonly live = el('div', 'visually-hidden');
  private readonly chart = el('div', 'gantt-chart');
  private drag: { x: number; from: number } | undefined;
  private truncated = false;
  private picker: (HTMLElement & { value: string }) | undefined;
  /** The last draw's cost (ms), for the e2e suite to read. */
  lastDrawMs = 0;

  constructor(private readonly on: GanttEvents) {
    this.live.setAttribute('aria-live', 'polite');
    this.chart.tabIndex = 0;
    this.chart.setAttribute('role', 'application');
    this.chart.setAttribute('aria-roledescription', l10n.t('timeline'));
    const body = el('div', 'gantt-body');
    body.append(this.labels, this.chart);
    this.chart.append(this.canvas);
    this.element.append(this.toolbar(), this.summary, body, this.live);
    this.chart.addEventListener('keydown', (e) => this.key(e));
    this.chart.addEventListener('focus', () => this.announce());
    this.canvas.addEventListener('click', (e) => {
      const hit = this.hit(e);
      if (!hit) return;
      this.cursor = { lane: hit.lane, bar: hit.bar };
      this.on.open(this.runAt(this.cursor)!);
    });
    this.canvas.addEventListener('mousemove', (e) => {
      if (this.drag) {
        this.view.from = this.drag.from - ((e.clientX - this.drag.x) * this.view.spanMs) / this.view.widthPx;
        this.schedule();
        return;
      }
      const hit = this.hit(e);
      this.canvas.title = hit ? barText(this.layout.lanes[hit.lane].bars[hit.bar].run, Date.now()) : '';
      this.canvas.style.cursor = hit ? 'pointer' : 'grab';
    });
    this.canvas.addEventListener('mousedown', (e) => (this.drag = { x: e.clientX, from: this.view.from }));
    window.addEventListener('mouseup', () => (this.drag = undefined));
    this.chart.addEventListener(
      'wheel',
      (e) => {
        e.preventDefault();
        if (e.ctrlKey) this.zoom(e.deltaY < 0 ? 0.8 : 1.25, e.offsetX);
        else {
          this.view.from += ((e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY) ? e.deltaX || e.deltaY : e.deltaY) * this.view.spanMs) / this.view.widthPx;
          this.schedule();
        }
      },
      { passive: false },
    );
    new ResizeObserver(() => this.schedule()).observe(this.chart);
  }

  private toolbar(): HTMLElement {
    const bar = el('div', 'toolbar gantt-toolbar');
    bar.setAttribute('role', 'toolbar');
    bar.setAttribute('aria-label', l10n.t('Runs over time'));
    this.picker = dropdown({
        ariaLabel: l10n.t('Time window'),
        value: this.window,
        options: [
          { value: 'hour', label: l10n.t('Last hour') },
          { value: 'day', label: l10n.t('Last day') },
          { value: 'week', label: l10n.t('Last week') },
        ],
        onChange: (v) => this.on.windowChanged(v as GanttWindow),
      });
    bar.append(
      this.picker,
      button(l10n.t('Zoom in'), { appearance: 'icon', icon: 'zoom-in', title: l10n.t('Zoom in (+)'), onClick: () => this.zoom(0.5) }),
      button(l10n.t('Zoom out'), { appearance: 'icon', icon: 'zoom-out', title: l10n.t('Zoom out (−)'), onClick: () => this.zoom(2) }),
      button(l10n.t('Fit'), { appearance: 'icon', icon: 'screen-normal', title: l10n.t('Show all the runs of the window (0)'), onClick: () => this.fit() }),
      this.legend(),
    );
    return bar;
  }

  private legend(): HTMLElement {
    const box = el('span', 'gantt-legend');
    for (const [cls, label] of [
      ['succeeded', l10n.t('succeeded')],
      ['failed', l10n.t('failed')],
      ['cancelled', l10n.t('cancelled')],
      ['running', l10n.t('running')],
      ['queued', l10n.t('waiting for a slot')],
    ]) {
      const item = el('span', 'gantt-legend-item');
      item.append(el('span', `swatch swatch-${cls}`), el('span', '', label));
      box.append(item);
    }
    return box;
  }

  /** New data for a window: the runs in it, as the host read them. */
  load(runs: GanttRun[], w: GanttWindow, now: number, truncated: boolean): void {
    this.window = w;
    this.runs.clear();
    for (const r of runs) this.runs.set(r.runId, r);
    if (this.picker && this.picker.value !== w) this.picker.value = w;
    this.view = fitView(runs, WINDOWS[w], now, this.view.widthPx);
    this.cursor = undefined;
    this.truncated = truncated;
    this.relayout();
  }

  /** Runs that started or ended since (pushed by the change feed): drawn at once. */
  upsert(runs: GanttRun[], now: number, follow = true): void {
    const from = now - WINDOWS[this.window];
    let changed = false;
    for (const r of runs) {
      if ((r.endedAt ?? now) < from) continue;
      this.runs.set(r.runId, r);
      changed = true;
    }
    if (!changed) return;
    // Keep following "now" when the view shows it.
    if (!follow) this.view = fitView(this.runs.values(), WINDOWS[this.window], this.view.from + this.view.spanMs, this.view.widthPx);
    else if (this.view.from + this.view.spanMs >= now - 60_000) this.view.from = Math.max(this.view.from, now - this.view.spanMs);
    this.relayout();
  }

  /** More runs are in the window than are read: say so. */
  truncate(): void {
    this.truncated = true;
    this.relayout();
  }

  private relayout(): void {
    const now = Date.now();
    const at = this.cursor && this.runAt(this.cursor)?.runId;
    this.layout = layoutGantt(this.runs.values(), now);
    if (at) this.cursor = this.find(at);
    const failed = [...this.runs.values()].filter((r) => r.status === 'failed').length;
    const running = [...this.runs.values()].filter((r) => r.status === 'running').length;
    this.summary.textContent = this.layout.runs
      ? `${WINDOW_TEXT[this.window](this.layout.runs, this.layout.lanes.length)}${failed ? l10n.t(', {0} failed', failed) : ''}${running ? l10n.t(', {0} running', running) : ''}${this.truncated ? l10n.t(' (the newest 20,000 shown)') : ''}.`
      : NO_RUNS[this.window]();
    this.chart.setAttribute('aria-label', l10n.t('Runs over time: {0} The arrow keys move between runs, Enter opens one, + and − zoom.', this.summary.textContent ?? ''));
    this.labels.replaceChildren(
      el('div', 'gantt-axis-space'),
      ...this.layout.lanes.map((l) => {
        const d = el('div', 'gantt-label', displayText(l.name));
        d.style.height = `${l.rows * ROW_H}px`;
        d.title = l.name;
        return d;
      }),
    );
    this.schedule();
  }

  private find(runId: string): Cursor | undefined {
    for (let lane = 0; lane < this.layout.lanes.length; lane++) {
      const bar = this.layout.lanes[lane].bars.findIndex((b) => b.run.runId === runId);
      if (bar >= 0) return { lane, bar };
    }
    return undefined;
  }

  private runAt(c: Cursor): GanttRun | undefined {
    return this.layout.lanes[c.lane]?.bars[c.bar]?.run;
  }

  private zoom(factor: number, atPx = this.view.widthPx / 2): void {
    const at = this.view.from + (atPx / this.view.widthPx) * this.view.spanMs;
    const span = Math.min(WINDOWS.week * 2, Math.max(5_000, this.view.spanMs * factor));
    this.view.from = at - (atPx / this.view.widthPx) * span;
    this.view.spanMs = span;
    this.schedule();
  }

  /** Back to all the window's runs in view. */
  private fit(): void {
    this.view = fitView(this.runs.values(), WINDOWS[this.window], Date.now(), this.view.widthPx);
    this.schedule();
  }

  private key(e: KeyboardEvent): void {
    if (e.key === '+' || e.key === '=') return void (this.zoom(0.5), e.preventDefault());
    if (e.key === '-' || e.key === '_') return void (this.zoom(2), e.preventDefault());
    if (e.key === '0') return void (this.fit(), e.preventDefault());
    if (e.key === 'Enter' || e.key === ' ') {
      const r = this.cursor && this.runAt(this.cursor);
      if (r) this.on.open(r);
      e.preventDefault();
      return;
    }
    const next = moveCursor(this.layout, this.cursor, e.key);
    if (next === this.cursor || (!next && !this.cursor)) return;
    e.preventDefault();
    this.cursor = next;
    this.reveal();
    this.announce();
    this.schedule();
  }

  /** Pans so that the bar under the cursor is in view. */
  private reveal(): void {
    const r = this.cursor && this.runAt(this.cursor);
    if (!r) return;
    const end = r.endedAt ?? Date.now();
    if (r.startedAt < this.view.from || end > this.view.from + this.view.spanMs) this.view.from = r.startedAt - this.view.spanMs * 0.2;
  }

  private announce(): void {
    const r = this.cursor && this.runAt(this.cursor);
    this.live.textContent = r ? barText(r, Date.now()) : this.layout.runs ? l10n.t('Press an arrow key to go to a run.') : '';
    this.chart.dataset.current = r?.runId ?? '';
  }

  private hit(e: MouseEvent): Cursor | undefined {
    const y = e.offsetY - AXIS_H;
    const row = Math.floor(y / ROW_H);
    let found: Cursor | undefined;
    for (const b of this.rects) {
      if (b.row !== row) continue;
      if (e.offsetX >= Math.min(b.qx, b.x) - 2 && e.offsetX <= b.x + b.w + 2) found = { lane: b.lane, bar: b.bar };
    }
    return found;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const started = performance.now();
    const now = Date.now();
    const width = Math.max(200, this.chart.clientWidth);
    const height = AXIS_H + Math.max(1, this.layout.rows) * ROW_H + 4;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * dpr) || this.canvas.height !== Math.round(height * dpr)) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    this.view.widthPx = width;
    const g = this.canvas.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, width, height);
    const css = getComputedStyle(this.element);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const fg = color('--vscode-descriptionForeground', '#888');
    const grid = color('--vscode-panel-border', color('--vscode-widget-border', '#8884'));
    const fill: Record<string, string> = {
      succeeded: color('--vscode-testing-iconPassed', '#3c3'),
      failed: color('--vscode-testing-iconFailed', '#e33'),
      cancelled: color('--vscode-disabledForeground', '#999'),
      running: color('--vscode-charts-blue', '#38f'),
    };
    // The axis: a label and a line at each round step.
    g.font = `11px ${css.fontFamily}`;
    g.fillStyle = fg;
    g.strokeStyle = grid;
    g.lineWidth = 1;
    const span = this.view.spanMs;
    for (const t of axisTicks(this.view)) {
      const x = Math.round(((t - this.view.from) / span) * width) + 0.5;
      g.beginPath();
      g.moveTo(x, AXIS_H - 4);
      g.lineTo(x, height);
      g.stroke();
      const d = new Date(t);
      g.fillText(span > 2 * 86_400_000 ? d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric' }) + ' ' + d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }) : d.toLocaleTimeString(undefined, span > 3_600_000 ? { hour: '2-digit', minute: '2-digit' } : undefined), x + 3, 14);
    }
    // Lanes, separated by a line.
    let y = AXIS_H;
    for (const l of this.layout.lanes) {
      y += l.rows * ROW_H;
      g.beginPath();
      g.moveTo(0, y + 0.5);
      g.lineTo(width, y + 0.5);
      g.stroke();
    }
    // "now".
    const nowX = ((now - this.view.from) / span) * width;
    if (nowX >= 0 && nowX <= width) {
      g.fillStyle = fill.running;
      g.fillRect(Math.round(nowX), AXIS_H - 6, 1, height);
    }
    this.rects = visibleBars(this.layout, this.view, now);
    for (const b of this.rects) {
      const top = AXIS_H + b.row * ROW_H + 4;
      const c = fill[b.status] ?? fg;
      if (b.qw >= 1) {
        // The wait for a slot: a thin line in front of the bar, at its top edge.
        g.globalAlpha = 0.55;
        g.fillStyle = c;
        g.fillRect(b.qx, top, b.qw, 2);
        g.globalAlpha = 1;
      }
      g.fillStyle = c;
      g.fillRect(b.x, top, b.w, ROW_H - 8);
    }
    const cur = this.cursor;
    const r = cur && this.rects.find((b) => b.lane === cur.lane && b.bar === cur.bar);
    if (r) {
      g.strokeStyle = color('--vscode-focusBorder', '#07f');
      g.lineWidth = 2;
      g.strokeRect(r.x - 2, AXIS_H + r.row * ROW_H + 2, r.w + 4, ROW_H - 4);
    }
    this.lastDrawMs = performance.now() - started;
    this.element.dataset.drawMs = this.lastDrawMs.toFixed(2);
    this.element.dataset.bars = String(this.rects.length);
  }
}
