// The details pane: one action's whole story (what runs, when, what happened) and, for the
// selected run, its result, output and webhook payload, with the buttons that act on them.
import { displayText } from '../src/core/displayText';
import { describeTrigger } from '../src/core/model';
import { relativeTime, shortDuration } from '../src/extension/model/relativeTime';
import type { DeliveryDetails, Details, NotificationView, PanelOp, PanelRun, Payload } from './protocol';
import { badge, button, el, icon, tabs } from './ui/components';
import { attemptText, exportText, notificationText, runOutcome, timelineRows } from './viewModel';
import { renderFlow } from './flowGraph';
import { healthFacts } from './healthView';

export interface DetailsEvents {
  act(op: PanelOp, target?: { flowId?: string; runId?: string }): void;
  showOutput(run: PanelRun): void;
  showDelivery(id: string): void;
  replay(id: string): void;
  selectRun(runId: string, actionId: string): void;
  tabChanged(id: string): void;
}

const ACTIVE = ['waiting', 'scheduled', 'retrying', 'running', 'paused'];

function when(ms: number, now: number): string {
  return `${new Date(ms).toLocaleString()} (${relativeTime(ms, now)})`;
}

function facts(rows: [string, string | HTMLElement | undefined][]): HTMLElement {
  const dl = el('dl', 'facts');
  for (const [k, v] of rows) {
    if (v === undefined || v === '') continue;
    dl.append(el('dt', '', k));
    const dd = el('dd');
    dd.append(v);
    dl.append(dd);
  }
  return dl;
}

function code(text: string, className = 'code'): HTMLElement {
  const pre = el('pre', className);
  pre.textContent = text;
  pre.tabIndex = 0;
  return pre;
}

function buttons(d: Details, on: DetailsEvents): HTMLElement {
  const bar = el('div', 'toolbar');
  bar.setAttribute('role', 'toolbar');
  bar.setAttribute('aria-label', 'Action');
  const a = d.action;
  const active = a && ACTIVE.includes(a.status);
  // A file action: its definition is one click away, and it ends by being removed from the file.
  const fromFile = a?.source === 'file';
  if (a?.needsApproval) bar.append(button('Review and Allow…', { icon: 'shield', appearance: 'primary', onClick: () => on.act('approve') }));
  if (a && a.status !== 'paused') bar.append(button(active ? 'Run Now' : 'Re-run', { icon: active ? 'play' : 'debug-rerun', appearance: 'primary', onClick: () => on.act(active ? 'runNow' : 'rerun') }));
  if (active && !fromFile) bar.append(button('Cancel', { icon: 'debug-stop', onClick: () => on.act('cancel') }));
  if (a?.status === 'paused') bar.append(button('Resume', { icon: 'debug-continue', appearance: 'primary', onClick: () => on.act('resumeAction') }));
  else if (active) bar.append(button('Pause', { icon: 'debug-pause', onClick: () => on.act('pauseAction') }));
  if (d.run) bar.append(button('Show Output', { icon: 'output', onClick: () => on.showOutput(d.run!) }));
  if (d.run?.worktree) bar.append(button('Open Worktree', { icon: 'multiple-windows', title: `Open ${d.run.worktree} (what the step saw) in a new window`, onClick: () => on.act('openWorktree', { runId: d.run!.runId }) }));
  if (fromFile) bar.append(button('Open in actions.yaml', { icon: 'go-to-file', onClick: () => on.act('openDefinition') }));
  else if (a) bar.append(button('Delete', { icon: 'trash', onClick: () => on.act('delete') }));
  return bar;
}

function overview(d: Details, now: number, on: DetailsEvents): HTMLElement {
  const box = el('div', 'overview');
  const a = d.action;
  if (a) {
    const trigger =
      a.trigger.kind === 'after'
        ? `after ${d.afterName ?? ''} ${a.trigger.if === 'failure' ? '(if something before it failed)' : a.trigger.if === 'always' ? '(always)' : '(when all succeed)'}, in the flow they start`
        : describeTrigger(a.trigger);
    const next = d.nextRuns.length ? el('ol', 'next-runs') : undefined;
    for (const t of d.nextRuns) next!.append(el('li', '', when(t, now)));
    box.append(
      el('h3', '', 'Action'),
      facts([
        ['Command', a.run.task ? `task "${a.run.task}"` : code(a.run.command, 'code inline')],
        ['Runner', a.run.runner],
        ['Defined', a.source === 'file' ? `in .sdlc/actions.yaml${a.needsApproval ? ' (its command needs your approval on this machine)' : ''}` : 'on this machine'],
        ['GitHub Actions', exportText(d.export)],
        ['Trigger', trigger],
        ['Status', `${a.status}${a.reason ? ` (${a.reason})` : ''}${a.pending ? ` · ${a.pending} queued` : ''}`],
        [d.nextRuns.length > 1 ? 'Next runs' : 'Next run', next],
        ['Attempts', `${a.attempt} made of up to ${a.policy.maxAttempts}${a.policy.maxAttempts > 1 ? ` · backoff ${shortDuration(a.policy.backoffMs)}` : ''}`],
        ['Timeout', a.policy.timeoutMs ? shortDuration(a.policy.timeoutMs) : undefined],
        ['Priority', a.policy.priority ? String(a.policy.priority) : undefined],
        ['Isolation', a.run.isolation === 'worktree' ? 'a git worktree of the commit its flow started from' : undefined],
        [
          'Notify',
          a.policy.notify === 'off' ? 'off (not even the folder default)'
          : a.policy.notify ? `on ${a.policy.notify.on} → ${a.policy.notify.url} (${a.policy.notify.format})`
          : d.notifyDefault ? `on ${d.notifyDefault.on} → ${d.notifyDefault.url} (${d.notifyDefault.format}; the folder default in the settings)`
          : undefined,
        ],
        ['Created', when(a.createdAt, now)],
        ['Id', a.id],
      ]),
    );
  } else {
    box.append(el('p', 'notice', 'This action was deleted; its runs stay in the history.'));
  }
  if (d.health) box.append(el('h3', '', 'Health'), facts(healthFacts(d.health, (runId) => on.selectRun(runId, d.actionId))));
  const r = d.run;
  if (r) {
    box.append(
      el('h3', '', 'Run'),
      facts([
        ['Result', `${r.status} · ${runOutcome(r)}`],
        ['Why', r.reason ?? undefined],
        ['Exit code', r.exitCode === null ? 'none recorded' : String(r.exitCode)],
        ['Started', when(r.startedAt, now)],
        ['Duration', r.endedAt !== null ? shortDuration(r.endedAt - r.startedAt) : `running for ${shortDuration(now - r.startedAt)}`],
        ['Attempt', String(r.attempt)],
        ['Cause', r.event && r.event !== r.cause ? r.event : r.cause],
        ['Flow', d.flow ? `${d.flow.flowId.slice(0, 8)} of "${displayText(d.flow.name)}" (${d.flow.status})` : undefined],
        ['Worktree', r.worktree],
        ['Run id', r.runId],
      ]),
    );
  }
  if (d.runs.length > 1) {
    box.append(el('h3', '', `Runs (${d.runs.length}${d.runs.length >= 50 ? '+' : ''})`));
    const list = el('ul', 'run-list');
    for (const x of d.runs) {
      const li = el('li');
      const link = el('a', x.runId === r?.runId ? 'current' : '', `${new Date(x.startedAt).toLocaleString()} · ${x.status}${x.endedAt !== null ? ` · ${runOutcome(x)} · ${shortDuration(x.endedAt - x.startedAt)}` : ''}`);
      link.href = '#';
      link.addEventListener('click', (e) => {
        e.preventDefault();
        on.selectRun(x.runId, x.actionId);
      });
      li.append(link);
      list.append(li);
    }
    box.append(list);
  }
  return box;
}

/**
 * The lifecycle events as a table: ids stay on one line, shortened, with the whole id on hover
 * and in what is copied (a selection over short ids copies the full ones).
 */
function timeline(d: Details): HTMLElement {
  const rows = timelineRows(d.timeline);
  if (!rows.length) return el('p', 'muted', 'No events recorded for this action.');
  const table = el('table', 'timeline-table');
  table.setAttribute('aria-label', 'Lifecycle timeline');
  const head = el('tr');
  for (const title of ['Seq', 'Time', 'Event', 'Run', 'Detail']) {
    const th = el('th', '', title);
    th.scope = 'col';
    head.append(th);
  }
  const thead = el('thead');
  thead.append(head);
  const body = el('tbody');
  for (const r of rows) {
    const tr = el('tr', `tone-${r.tone ?? 'plain'}`);
    const run = el('td', 'id-cell');
    if (r.runId) {
      const id = el('span', 'short-id', r.run);
      id.title = r.runId;
      id.dataset.full = r.runId;
      id.setAttribute('aria-label', `run ${r.runId}`);
      run.append(id);
    }
    tr.append(el('td', 'num', String(r.seq)), el('td', 'nowrap', r.time), el('td', 'nowrap', r.type), run, el('td', '', r.detail));
    body.append(tr);
  }
  table.append(thead, body);
  table.addEventListener('copy', (e) => {
    const sel = document.getSelection();
    if (!sel || sel.isCollapsed) return;
    const ids = [...table.querySelectorAll<HTMLElement>('.short-id')].filter((x) => sel.containsNode(x, true));
    if (!ids.length) return;
    let text = sel.toString();
    for (const x of ids) text = text.replace(x.textContent ?? '', x.dataset.full ?? '');
    e.clipboardData?.setData('text/plain', text);
    e.preventDefault();
  });
  const box = el('div', 'timeline-scroll');
  box.append(table);
  return box;
}

/** The action's notifications, newest first, each with its attempts: where it went, what answered. */
function notifications(list: NotificationView[], now: number, on: DetailsEvents, actionId: string): HTMLElement {
  const box = el('div', 'notifications');
  box.append(el('p', 'muted', 'Each run end this action announces is kept in the outbox until the receiver accepts it; every attempt carries the same Idempotency-Key.'));
  const ul = el('ul', 'notification-list');
  ul.setAttribute('aria-label', 'Notifications');
  for (const n of list) {
    const li = el('li', `notification status-${n.status}`);
    const head = el('div', 'notification-head');
    head.append(badge(n.status, `Notification ${n.status}`), el('span', '', `${new Date(n.createdAt).toLocaleString()} · ${notificationText(n, now)}`));
    const run = el('a', '', `run ${n.runId.slice(0, 8)}`);
    run.href = '#';
    run.title = n.runId;
    run.addEventListener('click', (e) => {
      e.preventDefault();
      on.selectRun(n.runId, actionId);
    });
    head.append(run);
    const tries = el('ol', 'attempts');
    tries.setAttribute('aria-label', 'Attempts');
    for (const a of n.attempts) tries.append(el('li', a.ok ? 'ok' : 'refused', attemptText(a)));
    if (!n.attempts.length) tries.append(el('li', 'muted', 'not attempted yet'));
    li.append(head, tries);
    ul.append(li);
  }
  box.append(ul);
  return box;
}

function output(d: Details): HTMLElement {
  const r = d.run;
  if (!r) return el('p', 'muted', 'No run yet.');
  const box = el('div');
  box.append(
    el('p', 'muted', r.outputTail ? 'The last part of the output, as kept in the history.' : 'No output was kept for this run (task and terminal runs show theirs in the terminal).'),
    ...(r.outputTail ? [code(r.outputTail, 'code output')] : []),
  );
  return box;
}

function payloadView(p: Payload, on: DetailsEvents): HTMLElement {
  const box = el('div');
  const dl = p.delivery;
  const bar = el('div', 'toolbar');
  bar.append(button('Open Delivery', { icon: 'go-to-file', onClick: () => on.showDelivery(dl.id) }), button('Replay', { icon: 'debug-rerun', onClick: () => on.replay(dl.id) }));
  box.append(
    facts([
      ['Hook', dl.hook],
      ['Received', `${new Date(dl.receivedAt).toLocaleString()} from ${dl.source}`],
      ['Size', `${dl.size} bytes${dl.headers['content-type'] ? ` · ${dl.headers['content-type']}` : ''}`],
      ["Sender's id", dl.externalId ?? undefined],
      ['Replay of', dl.replayOf ?? undefined],
      ['Delivery id', dl.id],
    ]),
    bar,
    code(p.text + (p.truncated ? '\n… (cut here; Open Delivery shows all of it)' : ''), `code payload kind-${p.kind}`),
  );
  return box;
}

export function renderDetails(d: Details, tab: string, now: number, on: DetailsEvents): HTMLElement {
  const box = el('section', 'details');
  box.setAttribute('aria-label', 'Details');
  const head = el('div', 'details-head');
  const a = d.action;
  const status = a?.status ?? d.run?.status ?? 'deleted';
  const h = el('h2');
  h.append(icon(a?.status === 'running' ? 'sync~spin' : 'symbol-event'), el('span', '', displayText(a?.name ?? d.run?.name ?? d.actionId)));
  head.append(h, badge(status, `Status: ${status}`));
  box.append(head, buttons(d, on));
  const pay = d.payload && payloadView(d.payload, on);
  const items = [
    { id: 'overview', label: 'Overview', content: overview(d, now, on) },
    ...(d.flow
      ? [
          {
            id: 'flow',
            label: 'Flow',
            count: d.flow.steps.length,
            content: renderFlow(d.flow, d.run?.runId, now, {
              cancelFlow: (flowId) => on.act('cancelFlow', { flowId }),
              rerunFlow: (flowId) => on.act('rerunFlow', { flowId }),
              selectRun: on.selectRun,
            }),
          },
        ]
      : []),
    { id: 'timeline', label: 'Timeline', count: d.timeline.length, content: timeline(d) },
    { id: 'output', label: 'Output', content: output(d) },
    ...(pay ? [{ id: 'payload', label: 'Payload', content: pay }] : []),
    ...(d.notifications?.length ? [{ id: 'notifications', label: 'Notifications', count: d.notifications.length, content: notifications(d.notifications, now, on, d.actionId) }] : []),
  ];
  box.append(tabs(items, tab, on.tabChanged));
  return box;
}

/** A delivery from the inbox: what arrived (headers aside; Open Delivery has them) and what it ran. */
export function renderDeliveryDetails(d: DeliveryDetails, now: number, on: DetailsEvents): HTMLElement {
  const box = el('section', 'details');
  box.setAttribute('aria-label', 'Webhook delivery');
  const dl = d.payload.delivery;
  const head = el('div', 'details-head');
  const h = el('h2');
  h.append(icon('mail'), el('span', '', `Delivery to "${dl.hook}"`));
  head.append(h, badge(dl.status, `Status: ${dl.status}`));
  box.append(head, payloadView(d.payload, on));
  box.append(el('h3', '', d.runs.length ? 'Runs it queued' : 'Runs'));
  if (!d.runs.length) box.append(el('p', 'muted', dl.status === 'received' ? 'Not processed yet: the next tick queues its runs.' : 'No action was on this hook when it arrived.'));
  const list = el('ul', 'run-list');
  for (const r of d.runs) {
    const link = el('a', '', `${displayText(r.name)} · ${r.status}${r.endedAt !== null ? ` · ${runOutcome(r)} · ${relativeTime(r.endedAt, now)}` : ''}`);
    link.href = '#';
    link.addEventListener('click', (e) => {
      e.preventDefault();
      on.selectRun(r.runId, r.actionId);
    });
    const li = el('li');
    li.append(link);
    list.append(li);
  }
  box.append(list);
  return box;
}
