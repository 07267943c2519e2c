// What the orchestrator panel is sent: the whole state when it opens, one delta per commit of
// the change feed, an action's details on request, and the Add form's validation (the same
// checks as Schedule Action). Reads the engine; no vscode here, so it is tested with a real one.
import * as l10n from '@vscode/l10n';
import type { Action, ActionInput, LifecycleEvent } from '../../core/model';
import type { Orchestrator } from '../../core/orchestrator';
import { cronFor } from '../../core/schedule';
import { parseDuration } from '../../core/duration';
import { causeText } from '../../core/triggers/eventText';
import type { AddForm, DeliveryDetails, Delta, Details, FlowView, FormFeedback, NotificationView, PanelRun, Payload } from '../../../webview/protocol';
import { redactTarget } from '../../core/notify/notifySpec';
import { bodyText } from './deliveryText';
import { commandFeedback, defaultName, nameFeedback, whenFeedback } from './wizardModel';

/** History is sent in pages this long: the first with the snapshot, the rest as the panel asks. */
export const HISTORY_PAGE = 1000;
/** The payload shown in the panel; the whole body stays a click away (Show Webhook Delivery). */
const PAYLOAD_SHOWN = 64 * 1024;

/** A page of history after `before` (the last run of the page before); `complete` when nothing older is left. */
export function historyPage(orch: Orchestrator, before: { endedAt: number; runId: string } | undefined, limit = HISTORY_PAGE): { runs: PanelRun[]; complete: boolean } {
  const runs = orch.store.runSummaries(limit, before);
  return { runs, complete: runs.length < limit };
}

/**
 * What one batch of committed events changed, read by id (indexed, so the cost follows the
 * batch, not the history). Undefined when the history was pruned or cleared: send it all again.
 */
export function deltaOf(orch: Orchestrator, folder: string, events: LifecycleEvent[]): Delta | undefined {
  if (events.some((e) => e.type === 'history.pruned' || e.type === 'history.cleared')) return undefined;
  const actionIds = new Set<string>();
  const runIds = new Set<string>();
  const deliveryIds = new Set<string>();
  const removed: string[] = [];
  for (const e of events) {
    if (e.actionId) actionIds.add(e.actionId);
    if (e.runId) runIds.add(e.runId);
    if (typeof e.data.delivery === 'string') deliveryIds.add(e.data.delivery);
    if (e.type === 'webhook.received' && typeof e.data.id === 'string') deliveryIds.add(e.data.id);
  }
  const actions: Action[] = [];
  for (const id of actionIds) {
    const a = orch.getAction(id);
    if (a) actions.push(a);
    else removed.push(id);
  }
  return {
    folder,
    events,
    actions,
    removedActions: removed,
    runs: orch.store.runSummariesByIds([...runIds]),
    deliveries: [...deliveryIds].map((id) => orch.getDelivery(id)).filter((d): d is NonNullable<typeof d> => d !== undefined),
    paused: orch.paused,
  };
}

/** The next `count` times an action runs: its due time, and for a recurring one the ones after. */
export function nextRuns(a: Action, now: number, count = 5): number[] {
  const t = a.trigger;
  if (a.status === 'paused' || a.dueAt === null) return [];
  if (t.kind === 'every') {
    const step = parseDuration(t.every, 'every');
    return Array.from({ length: count }, (_, i) => a.dueAt! + i * step);
  }
  if (t.kind !== 'cron') return [a.dueAt];
  const after = cronFor(t.cron, t.tz)
    .nextRuns(count - 1, new Date(Math.max(a.dueAt, now)))
    .map((d) => d.getTime());
  return [a.dueAt, ...after.filter((t) => t > a.dueAt!)].slice(0, count);
}

/** The whole story of one action, and of one of its runs (the selected one, else its latest). */
export function detailsOf(orch: Orchestrator, actionId: string, runId: string | undefined, now: number): Details | undefined {
  const action = orch.getAction(actionId);
  const runs = orch.store.runSummariesOf(actionId, 50);
  const selected = runId ?? runs[0]?.runId;
  const runRow = selected ? orch.store.getRun(selected) : undefined;
  if (!action && !runRow) return undefined;
  const timeline = orch.eventsOf(actionId, 500).map((e) => ({ seq: e.seq, ts: e.ts, type: e.type, runId: e.runId, data: e.data }));
  const deliveryId = runRow?.data.SDLC_WEBHOOK_DELIVERY_ID;
  const payload = deliveryId ? payloadOf(orch, deliveryId) : undefined;
  const afterIds = action?.trigger.kind === 'after' ? action.trigger.after : undefined;
  const notifications = notificationViews(orch, actionId, timeline);
  return {
    actionId,
    action,
    afterName: afterIds ? afterIds.map((id) => orch.getAction(id)?.name ?? id).join(', ') : undefined,
    run: runRow && {
      ...orch.store.runSummariesByIds([runRow.runId])[0],
      outputTail: runRow.outputTail,
      event: causeText(runRow.cause, runRow.data),
      ...(runRow.worktree ? { worktree: runRow.worktree } : {}),
    },
    ...(runRow?.flowId ? { flow: flowViewOf(orch, runRow.flowId) } : {}),
    runs,
    nextRuns: action ? nextRuns(action, now) : [],
    ...(action ? { health: orch.health(action.id) } : {}),
    timeline,
    payload,
    ...(notifications.length ? { notifications } : {}),
  };
}

/** A flow run with its steps, each with its latest run's attempt, as the panel draws it. */
export function flowViewOf(orch: Orchestrator, flowId: string): FlowView | undefined {
  const flow = orch.getFlow(flowId);
  if (!flow) return undefined;
  const attempts = new Map(flow.runs.map((r) => [r.runId, r.attempt] as const));
  const { runs: _runs, ...rest } = flow;
  return { ...rest, steps: flow.steps!.map((s) => ({ ...s, ...(s.runId && attempts.has(s.runId) ? { runAttempt: attempts.get(s.runId) } : {}) })) };
}

/** The action's latest notifications, each with its attempts as the timeline recorded them. */
function notificationViews(orch: Orchestrator, actionId: string, timeline: Details['timeline']): NotificationView[] {
  const list = orch.store.notificationsOf(actionId, 20);
  if (!list.length) return [];
  const attempts = new Map<string, NotificationView['attempts']>();
  for (const e of timeline) {
    if (e.type !== 'notification.attempted') continue;
    const id = String(e.data.notification);
    const d = e.data as { ok?: boolean; httpStatus?: number | null; error?: string | null; nextAt?: number | null };
    attempts.set(id, [...(attempts.get(id) ?? []), { ts: e.ts, ok: d.ok === true, httpStatus: d.httpStatus ?? null, error: d.error ?? null, nextAt: d.nextAt ?? null }]);
  }
  return list.map((n) => ({
    id: n.id,
    runId: n.runId,
    status: n.status,
    target: redactTarget(n.target),
    format: n.format,
    createdAt: n.createdAt,
    endedAt: n.endedAt,
    nextAt: n.status === 'pending' ? n.nextAt : null,
    lastError: n.lastError,
    attempts: attempts.get(n.id) ?? [],
  }));
}

/** A stored delivery's body as the panel shows it (cut at 64 KiB). */
function payloadOf(orch: Orchestrator, deliveryId: string): Payload | undefined {
  const delivery = orch.getDelivery(deliveryId);
  if (!delivery) return undefined;
  const body = bodyText(orch.deliveryBody(delivery.id));
  return { delivery, kind: body.kind, text: body.text.slice(0, PAYLOAD_SHOWN), truncated: body.text.length > PAYLOAD_SHOWN };
}

/** One delivery of the inbox: what arrived, and what it ran. */
export function deliveryDetailsOf(orch: Orchestrator, deliveryId: string): DeliveryDetails | undefined {
  const payload = payloadOf(orch, deliveryId);
  return payload && { payload, runs: orch.store.runSummariesOfDelivery(deliveryId) };
}

/** Checks the Add form the way Schedule Action checks its steps; `input` when it can be added. */
export function checkForm(form: AddForm, now: number, actions: Action[]): { feedback: FormFeedback; input?: ActionInput } {
  const feedback: FormFeedback = { ok: false };
  const command = String(form.command ?? '');
  feedback.command = commandFeedback(command);
  const name = String(form.name ?? '').trim() || (command.trim() ? defaultName(command) : '');
  feedback.name = form.name.trim() ? nameFeedback(form.name) : undefined;
  if (!['task', 'terminal', 'process'].includes(form.runner)) feedback.command ??= l10n.t('"{0}" is not a runner: pick Task, Terminal or Process', form.runner);
  let trigger: ActionInput['trigger'] | undefined;
  const value = String(form.value ?? '');
  switch (form.when) {
    case 'manual':
      trigger = { kind: 'manual' };
      feedback.info = l10n.t('Runs only when you press Run Now');
      break;
    case 'after': {
      const upstream = actions.find((a) => a.id === value);
      if (upstream) {
        trigger = { kind: 'after', after: [upstream.id] };
        feedback.info = l10n.t('Runs after "{0}" succeeds, as a step of the flow it starts', upstream.name);
      } else feedback.value = actions.length ? l10n.t('Pick the action this one runs after') : l10n.t('There is no action to run after yet: add that one first');
      break;
    }
    case 'open':
      trigger = { kind: 'open' };
      feedback.info = l10n.t('Runs once each time VS Code opens this folder');
      break;
    case 'in':
    case 'at':
    case 'cron':
    case 'every':
    case 'webhook':
    case 'change':
    case 'git':
    case 'afterTask': {
      const f = whenFeedback(form.when, value, now);
      if (f.ok) {
        trigger = f.trigger;
        feedback.info = f.info;
      } else feedback.value = f.message;
      break;
    }
    default:
      feedback.value = l10n.t('"{0}" is not a kind of trigger', String(form.when));
  }
  feedback.ok = !feedback.command && !feedback.name && !feedback.value && trigger !== undefined;
  return feedback.ok ? { feedback, input: { name, trigger: trigger!, run: { runner: form.runner, command } } } : { feedback };
}
