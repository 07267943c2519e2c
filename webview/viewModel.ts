// What the panel shows, computed from what the host sent: the queue and history as one tree
// (grouped, filtered, flattened to the rows that are visible), and an action's timeline.
// No DOM here, so it is unit-tested in plain mocha; webview/tree.ts draws the rows.
import * as l10n from '@vscode/l10n';
import { shortCause } from '../src/core/triggers/eventText';
import { displayText } from '../src/core/displayText';
import type { Action, Delivery, LifecycleEvent } from '../src/core/model';
import { relativeTime, shortDuration } from '../src/extension/model/relativeTime';
import { actionDescription, failedHow } from '../src/extension/model/treeModel';
import type { Delta, ExportState, Filter, NotificationView, PanelRun, Snapshot, TimelineEntry } from './protocol';

/** The panel's copy of one folder's state, patched by each pushed change. */
export class PanelModel {
  folder = '';
  actions = new Map<string, Action>();
  /** Finished runs by id; running runs show through their action in the queue. */
  private runs = new Map<string, PanelRun>();
  private sorted: PanelRun[] | undefined;
  deliveries: Delivery[] = [];
  webhookUrl: string | undefined;
  paused = false;
  historyComplete = true;
  lastSeq = 0;
  /** File actions by name: their export to GitHub Actions. */
  exports: Record<string, ExportState> = {};

  load(s: Snapshot): void {
    this.folder = s.folder;
    this.exports = s.exports ?? {};
    this.actions = new Map(s.actions.map((a) => [a.id, a]));
    this.runs = new Map();
    this.sorted = undefined;
    this.addHistory(s.history);
    this.historyComplete = s.historyComplete;
    this.deliveries = s.deliveries;
    this.webhookUrl = s.webhookUrl;
    this.paused = s.paused;
    this.lastSeq = s.lastSeq;
  }

  /** Applies one pushed change; returns the action ids it touched (the details pane re-reads those). */
  apply(d: Delta): Set<string> {
    const touched = new Set<string>();
    for (const a of d.actions) {
      this.actions.set(a.id, a);
      touched.add(a.id);
    }
    for (const id of d.removedActions) {
      this.actions.delete(id);
      touched.add(id);
    }
    for (const r of d.runs) {
      touched.add(r.actionId);
      if (r.endedAt === null) continue;
      this.runs.set(r.runId, r);
      this.sorted = undefined;
    }
    for (const e of d.events) {
      if (e.actionId) touched.add(e.actionId);
      this.lastSeq = Math.max(this.lastSeq, e.seq);
    }
    if (d.deliveries.length) {
      const byId = new Map(this.deliveries.map((x) => [x.id, x]));
      for (const x of d.deliveries) byId.set(x.id, x);
      this.deliveries = [...byId.values()].sort((a, b) => b.receivedAt - a.receivedAt).slice(0, 200);
    }
    this.paused = d.paused;
    return touched;
  }

  addHistory(runs: PanelRun[]): void {
    for (const r of runs) if (r.endedAt !== null) this.runs.set(r.runId, r);
    this.sorted = undefined;
  }

  /** Finished runs, newest first (sorted once per change, not per render). */
  history(): PanelRun[] {
    this.sorted ??= [...this.runs.values()].sort((a, b) => b.endedAt! - a.endedAt! || (a.runId < b.runId ? 1 : -1));
    return this.sorted;
  }

  /** The oldest run held: the next page of history starts after it (same order as the host's). */
  oldest(): { endedAt: number; runId: string } | undefined {
    const h = this.history();
    const last = h[h.length - 1];
    return last && { endedAt: last.endedAt!, runId: last.runId };
  }

  run(runId: string): PanelRun | undefined {
    return this.runs.get(runId);
  }
}

// ---- filtering ----

export function isFiltering(f: Filter): boolean {
  return Boolean(f.text.trim() || f.status || f.runner || f.trigger);
}

function textMatches(needle: string, ...hay: (string | undefined)[]): boolean {
  return !needle || hay.some((h) => h !== undefined && h.toLowerCase().includes(needle));
}

export function actionMatches(a: Action, f: Filter): boolean {
  return (
    (!f.status || a.status === f.status || (f.status === 'scheduled' && a.status === 'retrying')) &&
    (!f.runner || a.run.runner === f.runner) &&
    (!f.trigger || a.trigger.kind === f.trigger) &&
    textMatches(f.text.trim().toLowerCase(), a.name, a.run.command, a.run.task)
  );
}

export function runMatches(r: PanelRun, f: Filter): boolean {
  return (
    (!f.status || r.status === f.status) &&
    (!f.runner || r.runner === f.runner) &&
    (!f.trigger || runTrigger(r) === f.trigger) &&
    textMatches(f.text.trim().toLowerCase(), r.name, r.command)
  );
}

/** A run's trigger: its action's, or (the action deleted) what its cause says. */
function runTrigger(r: PanelRun): string {
  if (r.trigger) return r.trigger;
  if (r.cause.startsWith('webhook:')) return 'webhook';
  if (r.cause.startsWith('after:')) return 'after';
  if (r.cause === 'manual') return 'manual';
  if (r.cause === 'change' || r.cause === 'open') return r.cause;
  if (r.cause.startsWith('git:')) return 'git';
  if (r.cause.startsWith('task:')) return 'afterTask';
  return '';
}

// ---- the tree ----

export type Tone = 'running' | 'passed' | 'failed' | 'muted' | 'warning' | undefined;

/** One visible row, with what ARIA needs to describe it even when its siblings are not drawn. */
export interface TreeRow {
  key: string;
  kind: 'group' | 'action' | 'run' | 'delivery' | 'empty';
  level: number;
  setSize: number;
  posInSet: number;
  label: string;
  description: string;
  /** A codicon name. */
  icon: string;
  tone: Tone;
  count?: number;
  expanded?: boolean;
  actionId?: string;
  runId?: string;
  deliveryId?: string;
}

interface Node {
  key: string;
  kind: TreeRow['kind'];
  label: string;
  description?: string;
  icon: string;
  tone?: Tone;
  count?: number;
  /** Groups open by default: the queue's, History, and the newest day. */
  open?: boolean;
  actionId?: string;
  runId?: string;
  deliveryId?: string;
  /** Built only when the group is open. */
  children?: () => Node[];
}

const ACTION_ICON: Record<string, [string, Tone]> = {
  running: ['sync~spin', 'running'],
  scheduled: ['clock', undefined],
  retrying: ['debug-restart', 'warning'],
  waiting: ['watch', undefined],
  paused: ['debug-pause', 'muted'],
};

function runIcon(r: PanelRun): [string, Tone] {
  if (r.status === 'succeeded') return r.exitCode === null ? ['question', 'warning'] : ['pass', 'passed'];
  if (r.status === 'failed') return ['error', 'failed'];
  return ['circle-slash', 'muted'];
}

/** The exit code, or (none recorded) how the run ended, in a word the row has room for. */
export function runOutcome(r: PanelRun): string {
  if (r.exitCode !== null) return l10n.t('exit {0}', r.exitCode);
  return r.status === 'succeeded' ? l10n.t('exit ?') : failedHow(r);
}

function runDescription(r: PanelRun): string {
  const end = new Date(r.endedAt!);
  const why = shortCause(r.cause);
  return `${pad(end.getHours())}:${pad(end.getMinutes())}:${pad(end.getSeconds())} · ${shortDuration(r.endedAt! - r.startedAt)} · ${runOutcome(r)}${why ? ` · ${why}` : ''}`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The local calendar day a time falls on, as a sortable key. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function dayLabel(key: string, now: number): string {
  if (key === dayKey(now)) return l10n.t('Today');
  if (key === dayKey(now - 86_400_000)) return l10n.t('Yesterday');
  const [y, m, d] = key.split('-').map(Number);
  return new Date(y, m - 1, d).toLocaleDateString('en-US', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
}

const QUEUE_GROUPS: { key: string; label: string; icon: string; has: (a: Action) => boolean }[] = [
  { key: 'running', get label() {
      return l10n.t('Running');
    }, icon: 'play-circle', has: (a) => a.status === 'running' },
  { key: 'scheduled', get label() {
      return l10n.t('Scheduled');
    }, icon: 'clock', has: (a) => a.status === 'scheduled' || a.status === 'retrying' },
  { key: 'waiting', get label() {
      return l10n.t('Waiting');
    }, icon: 'watch', has: (a) => a.status === 'waiting' },
  { key: 'paused', get label() {
      return l10n.t('Paused');
    }, icon: 'debug-pause', has: (a) => a.status === 'paused' },
];

const WAITING_ON: { key: string; label: string; kinds: string[] }[] = [
  { key: 'webhook', get label() {
      return l10n.t('Webhook');
    }, kinds: ['webhook'] },
  { key: 'after', get label() {
      return l10n.t('Dependency');
    }, kinds: ['after'] },
  { key: 'manual', get label() {
      return l10n.t('Manual');
    }, kinds: ['manual'] },
  { key: 'dev', get label() {
      return l10n.t('Development events');
    }, kinds: ['change', 'git', 'afterTask', 'open'] },
  { key: 'other', get label() {
      return l10n.t('Other');
    }, kinds: ['at', 'delay', 'cron', 'every'] },
];

function byDue(a: Action, b: Action): number {
  return (a.dueAt ?? Infinity) - (b.dueAt ?? Infinity) || a.createdAt - b.createdAt;
}

/** An action's export to GitHub Actions, in words (the details' "GitHub Actions" row). */
export function exportText(s: ExportState | undefined): string | undefined {
  switch (s?.state) {
    case 'exported':
      return l10n.t('exported to {0} (up to date)', s.workflow ?? '');
    case 'stale':
      return l10n.t('{0} is out of date: run Export Actions to GitHub Actions', s.workflow ?? '');
    case 'missing':
      return l10n.t('not exported (Export Actions to GitHub Actions)');
    case 'conflict':
      return l10n.t('{0} was written by hand: rename it to export this action', s.workflow ?? '');
    case 'unsupported':
      return s.reason ?? l10n.t('cannot be exported');
    default:
      return undefined;
  }
}

/** Only an export that exists is worth a word in the row; the details say the rest. */
export function exportBadge(e: ExportState | undefined): string {
  return e?.state === 'exported' ? l10n.t(' · on GitHub') : e?.state === 'stale' ? l10n.t(' · GitHub: out of date') : '';
}

function buildNodes(model: PanelModel, f: Filter, now: number): Node[] {
  const names = new Map<string, string>();
  for (const a of model.actions.values()) names.set(a.id, a.name);
  const queued = [...model.actions.values()].filter((a) => QUEUE_GROUPS.some((g) => g.has(a)) && actionMatches(a, f)).sort(byDue);
  const actionNode = (a: Action): Node => {
    const [icon, tone] = ACTION_ICON[a.status] ?? ['circle-outline', undefined];
    const description =
      (a.needsApproval ? l10n.t('needs approval') : actionDescription(a, now, names)) +
      (a.status === 'scheduled' ? ` · ${a.run.runner}` : a.pending ? ` · ${l10n.t('{0} queued', a.pending)}` : '') +
      (a.source === 'file' ? ` · actions.yaml${exportBadge(model.exports[a.name])}` : '');
    return { key: `a:${a.id}`, kind: 'action', label: displayText(a.name), description, icon, tone, actionId: a.id };
  };
  const queueGroups: Node[] = [];
  for (const g of QUEUE_GROUPS) {
    const members = queued.filter(g.has);
    if (!members.length) continue;
    const children =
      g.key !== 'waiting'
        ? () => members.map(actionNode)
        : () =>
            WAITING_ON.flatMap((w) => {
              const on = members.filter((a) => w.kinds.includes(a.trigger.kind));
              return on.length ? [{ key: `waiting:${w.key}`, kind: 'group' as const, label: w.label, icon: 'watch', count: on.length, open: true, children: () => on.map(actionNode) }] : [];
            });
    queueGroups.push({ key: g.key, kind: 'group', label: g.label, icon: g.icon, count: members.length, open: true, children });
  }

  // History by day. Counting walks every run (cheap); rows are built only for open days.
  const runs = model.history().filter((r) => runMatches(r, f));
  const days: { key: string; runs: PanelRun[] }[] = [];
  for (const r of runs) {
    const k = dayKey(r.endedAt!);
    if (days.length && days[days.length - 1].key === k) days[days.length - 1].runs.push(r);
    else days.push({ key: k, runs: [r] });
  }
  const dayNodes = days.map(
    (d, i): Node => ({
      key: `day:${d.key}`,
      kind: 'group',
      label: dayLabel(d.key, now),
      icon: 'calendar',
      count: d.runs.length,
      open: i === 0,
      children: () =>
        d.runs.map((r): Node => {
          const [icon, tone] = runIcon(r);
          return { key: `r:${r.runId}`, kind: 'run', label: displayText(r.name), description: runDescription(r), icon, tone, actionId: r.actionId, runId: r.runId };
        }),
    }),
  );
  const filtering = isFiltering(f);
  const empty = (key: string, label: string): Node[] => [{ key, kind: 'empty', label, icon: 'info' }];
  const inbox = inboxNode(model, f, now);
  return [
    {
      key: 'queue',
      kind: 'group',
      label: l10n.t('Queue'),
      icon: 'list-ordered',
      count: queued.length,
      open: true,
      children: () => (queueGroups.length ? queueGroups : empty('queue-empty', filtering ? l10n.t('No queued action matches the filter.') : l10n.t('Nothing queued. Add an action to schedule work.'))),
    },
    // The inbox before the history: the history can be ten thousand rows long.
    ...(inbox ? [inbox] : []),
    {
      key: 'history',
      kind: 'group',
      label: l10n.t('History'),
      icon: 'history',
      count: runs.length,
      description: model.historyComplete ? undefined : 'loading older runs…',
      open: true,
      children: () => (dayNodes.length ? dayNodes : empty('history-empty', filtering ? l10n.t('No run matches the filter.') : l10n.t('No runs yet.'))),
    },
  ];
}

/** The webhook inbox: shown once the folder has a webhook action or has received a delivery. */
function inboxNode(model: PanelModel, f: Filter, now: number): Node | undefined {
  const hooks = [...model.actions.values()].filter((a) => a.trigger.kind === 'webhook');
  if (!hooks.length && !model.deliveries.length) return undefined;
  // Deliveries have no runner or state of their own: a filter on those hides them.
  const shown = f.status || f.runner || (f.trigger && f.trigger !== 'webhook') ? [] : model.deliveries.filter((d) => textMatches(f.text.trim().toLowerCase(), d.hook));
  return {
    key: 'webhooks',
    kind: 'group',
    label: l10n.t('Webhooks'),
    icon: 'plug',
    count: shown.length,
    description: model.webhookUrl ?? 'not served',
    open: true,
    children: () =>
      shown.length
        ? shown.map((d) => {
            const what = d.status === 'received' ? l10n.t('runs on the next tick') : d.actions.length ? l10n.t('ran {0}', d.actions.map((a) => a.name).join(', ')) : l10n.t('no action on this hook');
            return {
              key: `d:${d.id}`,
              kind: 'delivery' as const,
              label: d.hook,
              description: `${d.replayOf ? l10n.t('replay · ') : ''}${what} · ${relativeTime(d.receivedAt, now)}`,
              icon: d.status === 'received' ? 'mail' : 'mail-read',
              tone: d.status === 'received' ? ('running' as const) : d.actions.length ? undefined : ('muted' as const),
              deliveryId: d.id,
            };
          })
        : [{ key: 'webhooks-empty', kind: 'empty' as const, label: isFiltering(f) && model.deliveries.length ? l10n.t('No delivery matches the filter.') : model.webhookUrl ? l10n.t('No deliveries yet. POST to {0}', `${model.webhookUrl}/hooks/${(hooks[0]?.trigger as { hook?: string })?.hook ?? '<name>'}`) : l10n.t('No deliveries.'), icon: 'info' }],
  };
}

/**
 * The rows to draw, in order: every node whose ancestors are all expanded. `expanded` holds
 * the user's choices; a group without one uses its default.
 */
export function visibleRows(model: PanelModel, f: Filter, expanded: Record<string, boolean>, now: number): TreeRow[] {
  const out: TreeRow[] = [];
  const walk = (nodes: Node[], level: number) => {
    nodes.forEach((n, i) => {
      const isGroup = n.kind === 'group';
      const open = isGroup ? (expanded[n.key] ?? n.open ?? false) : undefined;
      out.push({
        key: n.key,
        kind: n.kind,
        level,
        setSize: nodes.length,
        posInSet: i + 1,
        label: n.label,
        description: n.description ?? '',
        icon: n.icon,
        tone: n.tone,
        count: n.count,
        expanded: open,
        actionId: n.actionId,
        runId: n.runId,
        deliveryId: n.deliveryId,
      });
      if (open && n.children) walk(n.children(), level + 1);
    });
  };
  walk(buildNodes(model, f, now), 1);
  return out;
}

/** Where keyboard focus goes from row `i`: the tree pattern of WAI-ARIA. */
export function moveFocus(rows: TreeRow[], i: number, key: string, pageSize = 10): { focus: number; toggle?: boolean } {
  const last = rows.length - 1;
  const row = rows[i];
  switch (key) {
    case 'ArrowDown':
      return { focus: Math.min(last, i + 1) };
    case 'ArrowUp':
      return { focus: Math.max(0, i - 1) };
    case 'Home':
      return { focus: 0 };
    case 'End':
      return { focus: last };
    case 'PageDown':
      return { focus: Math.min(last, i + pageSize) };
    case 'PageUp':
      return { focus: Math.max(0, i - pageSize) };
    case 'ArrowRight':
      if (row?.kind !== 'group') return { focus: i };
      return row.expanded ? { focus: Math.min(last, i + 1) } : { focus: i, toggle: true };
    case 'ArrowLeft': {
      if (row?.kind === 'group' && row.expanded) return { focus: i, toggle: true };
      for (let j = i - 1; j >= 0; j--) if (rows[j].level < row.level) return { focus: j };
      return { focus: i };
    }
    default:
      return { focus: i };
  }
}

// ---- the timeline ----

export interface TimelineRow {
  seq: number;
  time: string;
  type: string;
  detail: string;
  /** The run id shortened to its first 8 characters ('' for none); `runId` is all of it. */
  run: string;
  runId: string;
  tone: Tone;
}

const TYPE_TONE: Partial<Record<string, Tone>> = {
  'task.started': 'running',
  'task.completed': 'passed',
  'task.failed': 'failed',
  'task.retried': 'warning',
  'task.recovered': 'warning',
  'task.cancelled': 'muted',
  'task.skipped': 'muted',
  'notification.queued': 'muted',
};

/** "11-23 14:05:09.120": the day matters in a recurring action's story, the year rarely does. */
function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** What an event's data says, in a few words. */
export function eventDetail(e: Pick<TimelineEntry, 'type' | 'data'>): string {
  const d = e.data;
  const parts: string[] = [];
  if (e.type === 'task.accepted' && d.trigger && typeof d.trigger === 'object') parts.push(`trigger ${(d.trigger as { kind: string }).kind}`);
  if (typeof d.dueAt === 'string') parts.push(`due ${clockTime(Date.parse(d.dueAt))}`);
  if (typeof d.cause === 'string') parts.push(`cause ${d.cause}`);
  if (typeof d.changed === 'number') parts.push(`${d.changed} file${d.changed === 1 ? '' : 's'}${Array.isArray(d.files) && d.files.length ? `: ${d.files.slice(0, 3).join(', ')}${d.changed > 3 ? ', …' : ''}` : ''}`);
  if (typeof d.commit === 'string') parts.push(`${typeof d.branch === 'string' ? `${d.branch} ` : ''}${d.commit.slice(0, 7)}`);
  if (typeof d.task === 'string') parts.push(`task ${d.task}`);
  if (d.coalesced === true) parts.push('folded into the queued run');
  if (typeof d.attempt === 'number') parts.push(`attempt ${d.attempt}${typeof d.of === 'number' ? `/${d.of}` : ''}`);
  if (typeof d.lateMs === 'number') parts.push(`${d.lateMs} ms after due`);
  if (d.exitCode !== undefined && d.exitCode !== null) parts.push(`exit ${d.exitCode}`);
  if (typeof d.durationMs === 'number') parts.push(`took ${shortDuration(d.durationMs)}`);
  if (typeof d.delayMs === 'number' && d.delayMs > 0) parts.push(`retry in ${shortDuration(d.delayMs)}`);
  if (typeof d.missed === 'number') parts.push(`${d.missed} missed`);
  if (typeof d.reason === 'string') parts.push(d.reason);
  if (e.type === 'notification.queued') parts.push(`to ${String(d.target)} (${String(d.format)}, on ${String(d.on)})`);
  if (e.type === 'notification.attempted') parts.push(d.ok === true ? `accepted${typeof d.httpStatus === 'number' ? ` (HTTP ${d.httpStatus})` : ''}` : `${String(d.error ?? 'refused')}${d.gaveUp === true ? ' · given up' : typeof d.nextAt === 'number' ? ' · tried again later' : ''}`);
  return parts.join(' · ');
}

/** One notification, in words: where it went and how it stands. */
export function notificationText(n: NotificationView, now: number): string {
  const tries = `${n.attempts.length} attempt${n.attempts.length === 1 ? '' : 's'}`;
  if (n.status === 'sent') return `sent to ${n.target} · ${tries}`;
  if (n.status === 'failed') return `given up after ${tries} to ${n.target}`;
  const next = n.nextAt === null ? '' : n.nextAt <= now ? ' · sending now' : ` · next attempt ${clockTime(n.nextAt)}`;
  return `pending to ${n.target} · ${tries}${next}`;
}

/** One attempt, in words. */
export function attemptText(a: NotificationView['attempts'][number]): string {
  return `${clockTime(a.ts)} · ${a.ok ? `accepted${a.httpStatus !== null ? ` (HTTP ${a.httpStatus})` : ''}` : (a.error ?? 'refused')}`;
}

/** The action's story, oldest first: one row per lifecycle event. */
export function timelineRows(entries: (TimelineEntry | LifecycleEvent)[]): TimelineRow[] {
  return [...entries]
    .sort((a, b) => a.seq - b.seq)
    .map((e) => ({ seq: e.seq, time: clockTime(e.ts), type: e.type, detail: eventDetail(e), run: e.runId ? e.runId.slice(0, 8) : '', runId: e.runId ?? '', tone: TYPE_TONE[e.type] }));
}
