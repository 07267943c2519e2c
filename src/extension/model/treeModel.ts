// What the sidebar tree shows: rows, their order, labels, icons and menus, computed from the
// engine's state. No vscode here; ../treeView.ts turns these nodes into TreeItems.
import { causeText, shortCause } from '../../core/triggers/eventText';
import { displayText } from '../../core/displayText';
import { describeTrigger, type Action, type Delivery, type Flow, type Run } from '../../core/model';
import { relativeTime, shortDuration } from './relativeTime';
import * as l10n from '@vscode/l10n';
import type { Health } from '../../core/health';

export interface TreeNode {
  /** Stable across refreshes, so expansion and selection survive. */
  id: string;
  kind: 'folder' | 'group' | 'action' | 'run' | 'delivery' | 'message' | 'flow';
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon id and an optional theme color id. */
  icon?: { id: string; color?: string };
  /** Drives the inline and context menus (package.json `view/item/context`). */
  contextValue?: string;
  expanded?: boolean;
  children?: TreeNode[];
  folder?: string;
  actionId?: string;
  runId?: string;
  deliveryId?: string;
  flowId?: string;
  /** A command run on click (the message rows use it). */
  command?: string;
}

export interface FolderView {
  name: string;
  path: string;
  /** Why nothing runs here, when nothing does (untrusted, not started, an error). */
  notice?: { text: string; command?: string; icon: string };
  following?: string;
  actions: Action[];
  history: Run[];
  /** The latest webhook deliveries, newest first. */
  deliveries: Delivery[];
  webhookUrl?: string;
  /** The latest flow runs (their status labels the groups of runs in History). */
  flows?: Flow[];
}

const ACTION_ICON: Record<string, { id: string; color?: string }> = {
  running: { id: 'sync~spin', color: 'charts.blue' },
  scheduled: { id: 'clock' },
  retrying: { id: 'debug-restart', color: 'charts.yellow' },
  waiting: { id: 'watch' },
  paused: { id: 'debug-pause', color: 'disabledForeground' },
};

const RUN_ICON: Record<string, { id: string; color?: string }> = {
  succeeded: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  cancelled: { id: 'circle-slash', color: 'disabledForeground' },
  running: { id: 'sync~spin', color: 'charts.blue' },
};

const QUEUE_ORDER: Record<string, number> = { running: 0, scheduled: 1, retrying: 1, waiting: 2, paused: 3 };

/** Running first, then by due time, then those waiting on webhooks or dependencies, then paused. */
export function queueOrder(actions: Action[]): Action[] {
  return [...actions].sort(
    (a, b) =>
      (QUEUE_ORDER[a.status] ?? 9) - (QUEUE_ORDER[b.status] ?? 9) ||
      (a.dueAt ?? Infinity) - (b.dueAt ?? Infinity) ||
      a.createdAt - b.createdAt,
  );
}

/** What a queued action's row says after its name (the panel's tree says the same). */
export function actionDescription(a: Action, now: number, names: Map<string, string>): string {
  switch (a.status) {
    case 'running':
      return a.running > 1 ? l10n.t('running ×{0}', a.running) : l10n.t('running');
    case 'retrying':
      return l10n.t('retry {0} · attempt {1}/{2}', a.dueAt !== null ? relativeTime(a.dueAt, now) : '', a.attempt + 1, a.policy.maxAttempts);
    case 'scheduled':
      return a.dueAt !== null ? relativeTime(a.dueAt, now) : l10n.t('scheduled');
    case 'paused':
      return l10n.t('paused');
    default:
      if (a.trigger.kind === 'webhook') return l10n.t('on webhook {0}', a.trigger.hook);
      if (a.trigger.kind === 'after') {
        const ups = a.trigger.after.map((id) => names.get(id) ?? id.slice(0, 8)).join(', ');
        return a.trigger.if ? l10n.t('after {0} (if {1})', ups, a.trigger.if) : l10n.t('after {0}', ups);
      }
      if (a.trigger.kind === 'manual') return l10n.t('manual');
      if (a.trigger.kind === 'change') return l10n.t('on change {0}', a.trigger.paths.join(', '));
      if (a.trigger.kind === 'git') return a.trigger.branch ? l10n.t('on git {0} ({1})', a.trigger.git, a.trigger.branch) : l10n.t('on git {0}', a.trigger.git);
      if (a.trigger.kind === 'afterTask') return l10n.t('after task {0}', a.trigger.task);
      if (a.trigger.kind === 'open') return l10n.t('on folder open');
      return a.status;
  }
}

function actionTooltip(a: Action, names: Map<string, string>): string {
  const trigger =
    a.trigger.kind === 'after'
      ? a.trigger.if
        ? l10n.t('after {0} (if {1})', a.trigger.after.map((id) => `"${names.get(id) ?? id}"`).join(', '), a.trigger.if)
        : l10n.t('after {0}', a.trigger.after.map((id) => `"${names.get(id) ?? id}"`).join(', '))
      : describeTrigger(a.trigger);
  return [
    displayText(a.name),
    a.source === 'file' ? l10n.t('Defined in .sdlc/actions.yaml (shared with the repository)') : l10n.t('Added on this machine'),
    a.needsApproval ? l10n.t('Needs your approval: its command runs only once you allow it on this machine') : undefined,
    a.reason ? l10n.t('Status: {0} ({1})', a.status, a.reason) : l10n.t('Status: {0}', a.status),
    l10n.t('When: {0}', trigger),
    a.dueAt !== null ? l10n.t('Due: {0}', new Date(a.dueAt).toLocaleString()) : undefined,
    a.run.task ? l10n.t('Runs task "{0}" as {1}', a.run.task, a.run.runner) : l10n.t('Runs {0} as {1}', a.run.command, a.run.runner),
    a.policy.maxAttempts > 1 ? l10n.t('Attempts: up to {0}', a.policy.maxAttempts) : undefined,
    a.policy.timeoutMs ? l10n.t('Timeout: {0}', shortDuration(a.policy.timeoutMs)) : undefined,
    `Id: ${a.id}`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** An action's health in a few lines, for its tooltip (read when the tooltip is shown, not per render). */
export function healthLines(h: Health): string[] {
  if (!h.runs) return [l10n.t('Health: no runs yet')];
  const rate = h.successRate === null ? l10n.t('no run succeeded or failed yet') : l10n.t('{0}% of the last {1} succeeded', Math.round(h.successRate * 100), h.succeeded + h.failed);
  const times = h.p50Ms === null ? '' : l10n.t(' · p50 {0}, p95 {1}', shortDuration(h.p50Ms), shortDuration(h.p95Ms!));
  const ratio = h.trend && Number.isFinite(h.trend.ratio) ? h.trend.ratio.toFixed(1) : '∞';
  const trend = h.trend?.word === 'slower' ? l10n.t(' · getting slower (×{0})', ratio) : h.trend?.word === 'faster' ? l10n.t(' · getting faster (×{0})', ratio) : '';
  return [
    l10n.t('Health: {0}{1}{2}', rate, times, trend),
    ...(h.flaky ? [l10n.t('Flaky: {0} switches between success and failure with its definition unchanged', h.flips)] : []),
    ...(h.lastFailure
      ? [
          h.lastFailure.reason
            ? l10n.t('Last failure: {0} ({1})', new Date(h.lastFailure.endedAt).toLocaleString(), h.lastFailure.reason)
            : l10n.t('Last failure: {0}', new Date(h.lastFailure.endedAt).toLocaleString()),
        ]
      : []),
  ];
}

/** A run that ended without an exit code: say how, in a word the row has room for. */
export function failedHow(r: Pick<Run, 'reason' | 'status'>): string {
  if (r.reason?.startsWith('recovered')) return l10n.t('recovered');
  if (r.reason?.startsWith('timed out')) return l10n.t('timed out');
  if (r.reason?.startsWith('interrupted')) return l10n.t('interrupted');
  return r.status;
}

function runDescription(r: Run, now: number): string {
  const parts: string[] = [];
  const why = shortCause(r.cause); // what started it says most about a run of a development event
  if (why) parts.push(why);
  if (r.endedAt !== null) parts.push(shortDuration(r.endedAt - r.startedAt));
  parts.push(r.exitCode === null ? (r.status === 'succeeded' ? l10n.t('exit ?') : failedHow(r)) : l10n.t('exit {0}', r.exitCode));
  parts.push(relativeTime(r.endedAt ?? r.startedAt, now));
  return parts.join(' · ');
}

function runTooltip(r: Run): string {
  return [
    `${displayText(r.name)}: ${r.status}`,
    r.reason ? l10n.t('Why: {0}', r.reason) : undefined,
    r.endedAt !== null
      ? l10n.t('Started {0}, took {1}', new Date(r.startedAt).toLocaleString(), shortDuration(r.endedAt - r.startedAt))
      : l10n.t('Started {0}', new Date(r.startedAt).toLocaleString()),
    l10n.t('Exit code: {0} · attempt {1} · {2} · {3}', r.exitCode ?? l10n.t('unknown'), r.attempt, r.runner, causeText(r.cause, (r as { data?: Record<string, string> }).data)),
  ]
    .filter(Boolean)
    .join('\n');
}

function folderChildren(f: FolderView, now: number, historyLimit: number): TreeNode[] {
  if (f.notice) {
    return [{ id: `${f.path}#notice`, kind: 'message', label: f.notice.text, tooltip: f.notice.text, icon: { id: f.notice.icon }, command: f.notice.command, folder: f.path }];
  }
  const names = new Map(f.actions.map((a) => [a.id, a.name] as const));
  for (const r of f.history) if (!names.has(r.actionId)) names.set(r.actionId, r.name);
  const queue = queueOrder(f.actions).map(
    (a): TreeNode => ({
      id: `${f.path}#a:${a.id}`,
      kind: 'action',
      label: displayText(a.name),
      // File actions say so: they are shared, and edited in the file.
      description: (a.needsApproval ? l10n.t('needs approval') : actionDescription(a, now, names)) + (a.source === 'file' ? ' · actions.yaml' : ''),
      tooltip: actionTooltip(a, names),
      icon: a.needsApproval ? { id: 'shield', color: 'charts.yellow' } : (ACTION_ICON[a.status] ?? { id: 'circle-outline' }),
      contextValue: a.needsApproval ? 'action.approval.file' : `action.${a.status}${a.source === 'file' ? '.file' : ''}`,
      folder: f.path,
      actionId: a.id,
    }),
  );
  const runNode = (r: Run, inFlow = false): TreeNode => ({
    id: `${f.path}#r:${r.runId}`,
    kind: 'run',
    label: displayText(r.name),
    // Within its flow, what started a step goes without saying.
    description: inFlow ? runDescription({ ...r, cause: 'flow' }, now) : runDescription(r, now),
    tooltip: runTooltip(r),
    icon: r.status === 'succeeded' && r.exitCode === null ? { id: 'question', color: 'charts.yellow' } : (RUN_ICON[r.status] ?? { id: 'circle-outline' }),
    contextValue: `run.${r.status}${r.worktree ? '.worktree' : ''}`,
    folder: f.path,
    actionId: r.actionId,
    runId: r.runId,
  });
  const history = groupFlows(f.history.slice(0, historyLimit), f.flows ?? [], f.path, now, runNode);
  const empty = (id: string, label: string): TreeNode[] => [{ id: `${f.path}#${id}`, kind: 'message', label, folder: f.path }];
  const webhooks = webhooksGroup(f, now);
  return [
    {
      id: `${f.path}#queue`,
      kind: 'group',
      label: l10n.t('Queue'),
      description: f.following ? l10n.t('{0} · following {1}', queue.length, f.following) : String(queue.length),
      icon: { id: 'list-ordered' },
      expanded: true,
      folder: f.path,
      contextValue: 'queue',
      children: queue.length ? queue : empty('queue-empty', l10n.t('Nothing queued. Schedule Action adds work.')),
    },
    {
      id: `${f.path}#history`,
      kind: 'group',
      label: l10n.t('History'),
      description: String(history.length),
      icon: { id: 'history' },
      expanded: true,
      folder: f.path,
      contextValue: 'history',
      children: history.length ? history : empty('history-empty', l10n.t('No runs yet.')),
    },
    ...(webhooks ? [webhooks] : []),
  ];
}

const FLOW_ICON: Record<string, { id: string; color?: string }> = {
  running: { id: 'sync~spin', color: 'charts.blue' },
  succeeded: { id: 'pass', color: 'testing.iconPassed' },
  failed: { id: 'error', color: 'testing.iconFailed' },
  cancelled: { id: 'circle-slash', color: 'disabledForeground' },
};

/**
 * History with each flow run's steps under one row for the flow, placed where its latest step
 * ended; a run of no flow stays a row of its own.
 */
export function groupFlows(history: Run[], flows: Flow[], folder: string, now: number, runNode: (r: Run, inFlow?: boolean) => TreeNode): TreeNode[] {
  const byFlow = new Map<string, Run[]>();
  for (const r of history) if (r.flowId) byFlow.set(r.flowId, [...(byFlow.get(r.flowId) ?? []), r]);
  const known = new Map(flows.map((x) => [x.flowId, x] as const));
  const out: TreeNode[] = [];
  const placed = new Set<string>();
  for (const r of history) {
    const steps = r.flowId ? byFlow.get(r.flowId)! : undefined;
    if (!steps || steps.length < 2 && !known.has(r.flowId!)) {
      out.push(runNode(r));
      continue;
    }
    if (placed.has(r.flowId!)) continue;
    placed.add(r.flowId!);
    const flow = known.get(r.flowId!);
    const status = flow?.status ?? (steps.some((x) => x.status === 'failed') ? 'failed' : 'succeeded');
    const oldest = steps[steps.length - 1];
    const ended = flow?.endedAt ?? steps[0].endedAt ?? now;
    out.push({
      id: `${folder}#f:${r.flowId}`,
      kind: 'flow',
      label: l10n.t('{0} flow', displayText(flow?.name ?? oldest.name)),
      description: [status, steps.length === 1 ? l10n.t('1 run') : l10n.t('{0} runs', steps.length), shortDuration(ended - (flow?.startedAt ?? oldest.startedAt)), relativeTime(ended, now)].join(' · '),
      tooltip: [
        l10n.t('Flow {0} started by "{1}": {2}', r.flowId!, displayText(flow?.name ?? oldest.name), status),
        flow?.reason ? l10n.t('Why: {0}', flow.reason) : undefined,
        flow && flow.attempt > 1 ? l10n.t('Attempt {0}', flow.attempt) : undefined,
      ]
        .filter(Boolean)
        .join('\n'),
      icon: FLOW_ICON[status] ?? { id: 'type-hierarchy' },
      contextValue: `flow.${status}`,
      folder,
      flowId: r.flowId!,
      runId: steps[0].runId,
      actionId: steps[0].actionId,
      // The latest flow and any that did not succeed are open; older successes fold away.
      expanded: status !== 'succeeded' || placed.size === 1,
      // In the order the steps started.
      children: [...steps].reverse().map((x) => runNode(x, true)),
    });
  }
  return out;
}

function deliveryDescription(d: Delivery, now: number): string {
  const what =
    d.status === 'received'
      ? l10n.t('received, runs on the next tick')
      : d.actions.length
        ? l10n.t('ran {0}', d.actions.map((a) => a.name).join(', '))
        : l10n.t('no action on this hook');
  return d.replayOf ? l10n.t('replay, {0} · {1}', what, relativeTime(d.receivedAt, now)) : `${what} · ${relativeTime(d.receivedAt, now)}`;
}

function deliveryTooltip(d: Delivery): string {
  return [
    l10n.t('Delivery to hook "{0}"', d.hook),
    l10n.t('Received {0} from {1}', new Date(d.receivedAt).toLocaleString(), d.source),
    d.headers['content-type'] ? l10n.t('{0} bytes · {1}', d.size, d.headers['content-type']) : l10n.t('{0} bytes', d.size),
    d.externalId ? l10n.t("Sender's id: {0}", d.externalId) : undefined,
    d.replayOf ? l10n.t('Replay of {0}', d.replayOf) : undefined,
    d.status === 'processed' ? l10n.t('Queued runs of: {0}', d.actions.map((a) => a.name).join(', ') || l10n.t('nothing (no action on this hook)')) : l10n.t('Not processed yet'),
    `Id: ${d.id}`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** The webhook inbox: shown once the folder has a webhook action or has received a delivery. */
function webhooksGroup(f: FolderView, now: number): TreeNode | undefined {
  const hooks = new Set(f.actions.filter((a) => a.trigger.kind === 'webhook').map((a) => (a.trigger as { hook: string }).hook));
  if (!hooks.size && !f.deliveries.length) return undefined;
  const rows = f.deliveries.map(
    (d): TreeNode => ({
      id: `${f.path}#d:${d.id}`,
      kind: 'delivery',
      label: d.hook,
      description: deliveryDescription(d, now),
      tooltip: deliveryTooltip(d),
      icon: d.status === 'received' ? { id: 'mail', color: 'charts.blue' } : d.actions.length ? { id: 'mail-read' } : { id: 'mail-read', color: 'disabledForeground' },
      contextValue: `delivery.${d.status}`,
      folder: f.path,
      deliveryId: d.id,
      command: 'sdlc.showDelivery',
    }),
  );
  const empty: TreeNode = {
    id: `${f.path}#webhooks-empty`,
    kind: 'message',
    label: f.webhookUrl ? l10n.t('No deliveries yet. POST to {0}', `${f.webhookUrl}/hooks/${[...hooks][0]}`) : l10n.t('No deliveries yet. Webhooks are not served (see the log).'),
    tooltip: l10n.t('Copy Webhook URL gives the address and the secret.'),
    command: 'sdlc.copyWebhookUrl',
    icon: { id: 'info' },
    folder: f.path,
  };
  return {
    id: `${f.path}#webhooks`,
    kind: 'group',
    label: l10n.t('Webhooks'),
    description: f.webhookUrl ? `${rows.length} · ${f.webhookUrl}` : l10n.t('{0} · not served', rows.length),
    tooltip: f.webhookUrl ? l10n.t("Deliveries are POSTed to {0}/hooks/<name> with the folder's secret.", f.webhookUrl) : l10n.t('No orchestrator serves webhooks for this folder.'),
    icon: { id: 'plug' },
    expanded: true,
    folder: f.path,
    contextValue: 'webhooks',
    children: rows.length ? rows : [empty],
  };
}

/** One folder: Queue and History at the top. Several: a row per folder, each with its own. */
export function buildTree(folders: FolderView[], now: number, historyLimit = 100): TreeNode[] {
  if (folders.length === 1) return folderChildren(folders[0], now, historyLimit);
  return folders.map((f) => ({
    id: `${f.path}#folder`,
    kind: 'folder',
    label: f.name,
    icon: { id: 'root-folder' },
    expanded: true,
    folder: f.path,
    children: folderChildren(f, now, historyLimit),
  }));
}
