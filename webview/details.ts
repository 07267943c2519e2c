// The details pane: one action's whole story (what runs, when, what happened) and, for the
// selected run, its result, output and webhook payload, with the buttons that act on them.
import * as l10n from '@vscode/l10n';
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
  bar.setAttribute('aria-label', l10n.t('Action'));
  const a = d.action;
  const active = a && ACTIVE.includes(a.status);
  // A file action: its definition is one click away, and it ends by being removed from the file.
  const fromFile = a?.source === 'file';
  if (a?.needsApproval) bar.append(button(l10n.t('Review and Allow…'), { icon: 'shield', appearance: 'primary', onClick: () => on.act('approve') }));
  if (a && a.status !== 'paused') bar.append(button(active ? l10n.t('Run Now') : l10n.t('Re-run'), { icon: active ? 'play' : 'debug-rerun', appearance: 'primary', onClick: () => on.act(active ? 'runNow' : 'rerun') }));
  if (active && !fromFile) bar.append(button(l10n.t('Cancel'), { icon: 'debug-stop', onClick: () => on.act('cancel') }));
  if (a?.status === 'paused') bar.append(button(l10n.t('Resume'), { icon: 'debug-continue', appearance: 'primary', onClick: () => on.act('resumeAction') }));
  else if (active) bar.append(button(l10n.t('Pause'), { icon: 'debug-pause', onClick: () => on.act('pauseAction') }));
  if (d.run) bar.append(button(l10n.t('Show Output'), { icon: 'output', onClick: () => on.showOutput(d.run!) }));
  if (d.run?.worktree) bar.append(button(l10n.t('Open Worktree'), { icon: 'multiple-windows', title: l10n.t('Open {0} (what the step saw) in a new window', d.run.worktree), onClick: () => on.act('openWorktree', { runId: d.run!.runId }) }));
  if (fromFile) bar.append(button(l10n.t('Open in actions.yaml'), { icon: 'go-to-file', onClick: () => on.act('openDefinition') }));
  else if (a) bar.append(button(l10n.t('Delete'), { icon: 'trash', onClick: () => on.act('delete') }));
  return bar;
}

function overview(d: Details, now: number, on: DetailsEvents): HTMLElement {
  const box = el('div', 'overview');
  const a = d.action;
  if (a) {
    const trigger =
      a.trigger.kind === 'after'
        ? a.trigger.if === 'failure'
          ? l10n.t('after {0} (if something before it failed), in the flow they start', d.afterName ?? '')
          : a.trigger.if === 'always'
            ? l10n.t('after {0} (always), in the flow they start', d.afterName ?? '')
            : l10n.t('after {0} (when all succeed), in the flow they start', d.afterName ?? '')
        : describeTrigger(a.trigger);
    const next = d.nextRuns.length ? el('ol', 'next-runs') : undefined;
    for (const t of d.nextRuns) next!.append(el('li', '', when(t, now)));
    box.append(
      el('h3', '', l10n.t('Action')),
      facts([
        [l10n.t('Command'), a.run.task ? l10n.t('task "{0}"', a.run.task) : code(a.run.command, 'code inline')],
        [l10n.t('Runner'), a.run.runner],
        [l10n.t('Defined'), a.source === 'file' ? (a.needsApproval ? l10n.t('in .sdlc/actions.yaml (its command needs your approval on this machine)') : l10n.t('in .sdlc/actions.yaml')) : l10n.t('on this machine')],
        [l10n.t('GitHub Actions'), exportText(d.export)],
        [l10n.t('Trigger'), trigger],
        [l10n.t('Status'), `${a.status}${a.reason ? ` (${a.reason})` : ''}${a.pending ? ` · ${l10n.t('{0} queued', a.pending)}` : ''}`],
        [d.nextRuns.length > 1 ? l10n.t('Next runs') : l10n.t('Next run'), next],
        [
          l10n.t('Attempts'),
          a.policy.maxAttempts > 1
            ? l10n.t('{0} made of up to {1} · backoff {2}', a.attempt, a.policy.maxAttempts, shortDuration(a.policy.backoffMs))
            : l10n.t('{0} made of up to {1}', a.attempt, a.policy.maxAttempts),
        ],
        [l10n.t('Timeout'), a.policy.timeoutMs ? shortDuration(a.policy.timeoutMs) : undefined],
        [l10n.t('Priority'), a.policy.priority ? String(a.policy.priority) : undefined],
        [l10n.t('Isolation'), a.run.isolation === 'worktree' ? l10n.t('a git worktree of the commit its flow started from') : undefined],
        [
          l10n.t('Notify'),
          a.policy.notify === 'off' ? l10n.t('off (not even the folder default)')
          : a.policy.notify ? l10n.t('on {0} → {1} ({2})', a.policy.notify.on, a.policy.notify.url, a.policy.notify.format)
          : d.notifyDefault ? l10n.t('on {0} → {1} ({2}; the folder default in the settings)', d.notifyDefault.on, d.notifyDefault.url, d.notifyDefault.format)
          : undefined,
        ],
        [l10n.t('Created'), when(a.createdAt, now)],
        [l10n.t('Id'), a.id],
      ]),
    );
  } else {
    box.append(el('p', 'notice', l10n.t('This action was deleted; its runs stay in the history.')));
  }
  if (d.health) box.append(el('h3', '', l10n.t('Health')), facts(healthFacts(d.health, (runId) => on.selectRun(runId, d.actionId))));
  const r = d.run;
  if (r) {
    box.append(
      el('h3', '', l10n.t('Run')),
      facts([
        [l10n.t('Result'), `${r.status} · ${runOutcome(r)}`],
        [l10n.t('Why'), r.reason ?? undefined],
        [l10n.t('Exit code'), r.exitCode === null ? l10n.t('none recorded') : String(r.exitCode)],
        [l10n.t('Started'), when(r.startedAt, now)],
        [l10n.t('Duration'), r.endedAt !== null ? shortDuration(r.endedAt - r.startedAt) : l10n.t('running for {0}', shortDuration(now - r.startedAt))],
        [l10n.t('Attempt'), String(r.attempt)],
        [l10n.t('Cause'), r.event && r.event !== r.cause ? r.event : r.cause],
        [l10n.t('Flow'), d.flow ? l10n.t('{0} of "{1}" ({2})', d.flow.flowId.slice(0, 8), displayText(d.flow.name), d.flow.status) : undefined],
        [l10n.t('Worktree'), r.worktree],
        [l10n.t('Run id'), r.runId],
      ]),
    );
  }
  if (d.runs.length > 1) {
    box.append(el('h3', '', l10n.t('Runs ({0})', `${d.runs.length}${d.runs.length >= 50 ? '+' : ''}`)));
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
  if (!rows.length) return el('p', 'muted', l10n.t('No events recorded for this action.'));
  const table = el('table', 'timeline-table');
  table.setAttribute('aria-label', l10n.t('Lifecycle timeline'));
  const head = el('tr');
  for (const title of [l10n.t('Seq'), l10n.t('Time'), l10n.t('Event'), l10n.t('Run'), l10n.t('Detail')]) {
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
      id.setAttribute('aria-label', l10n.t('run {0}', r.runId));
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
  box.append(el('p', 'muted', l10n.t('Each run end this action announces is kept in the outbox until the receiver accepts it; every attempt carries the same Idempotency-Key.')));
  const ul = el('ul', 'notification-list');
  ul.setAttribute('aria-label', l10n.t('Notifications'));
  for (const n of list) {
    const li = el('li', `notification status-${n.status}`);
    const head = el('div', 'notification-head');
    head.append(badge(n.status, l10n.t('Notification {0}', n.status)), el('span', '', `${new Date(n.createdAt).toLocaleString()} · ${notificationText(n, now)}`));
    const run = el('a', '', l10n.t('run {0}', n.runId.slice(0, 8)));
    run.href = '#';
    run.title = n.runId;
    run.addEventListener('click', (e) => {
      e.preventDefault();
      on.selectRun(n.runId, actionId);
    });
    head.append(run);
    const tries = el('ol', 'attempts');
    tries.setAttribute('aria-label', l10n.t('Attempts'));
    for (const a of n.attempts) tries.append(el('li', a.ok ? 'ok' : 'refused', attemptText(a)));
    if (!n.attempts.length) tries.append(el('li', 'muted', l10n.t('not attempted yet')));
    li.append(head, tries);
    ul.append(li);
  }
  box.append(ul);
  return box;
}

function output(d: Details): HTMLElement {
  const r = d.run;
  if (!r) return el('p', 'muted', l10n.t('No run yet.'));
  const box = el('div');
  box.append(
    el('p', 'muted', r.outputTail ? l10n.t('The last part of the output, as kept in the history.') : l10n.t('No output was kept for this run (task and terminal runs show theirs in the terminal).')),
    ...(r.outputTail ? [code(r.outputTail, 'code output')] : []),
  );
  return box;
}

function payloadView(p: Payload, on: DetailsEvents): HTMLElement {
  const box = el('div');
  const dl = p.delivery;
  const bar = el('div', 'toolbar');
  bar.append(button(l10n.t('Open Delivery'), { icon: 'go-to-file', onClick: () => on.showDelivery(dl.id) }), button(l10n.t('Replay'), { icon: 'debug-rerun', onClick: () => on.replay(dl.id) }));
  box.append(
    facts([
      [l10n.t('Hook'), dl.hook],
      [l10n.t('Received'), l10n.t('{0} from {1}', new Date(dl.receivedAt).toLocaleString(), dl.source)],
      [l10n.t('Size'), dl.headers['content-type'] ? l10n.t('{0} bytes · {1}', dl.size, dl.headers['content-type']) : l10n.t('{0} bytes', dl.size)],
      [l10n.t("Sender's id"), dl.externalId ?? undefined],
      [l10n.t('Replay of'), dl.replayOf ?? undefined],
      [l10n.t('Delivery id'), dl.id],
    ]),
    bar,
    code(p.text + (p.truncated ? `\n${l10n.t('… (cut here; Open Delivery shows all of it)')}` : ''), `code payload kind-${p.kind}`),
  );
  return box;
}

export function renderDetails(d: Details, tab: string, now: number, on: DetailsEvents): HTMLElement {
  const box = el('section', 'details');
  box.setAttribute('aria-label', l10n.t('Details'));
  const head = el('div', 'details-head');
  const a = d.action;
  const status = a?.status ?? d.run?.status ?? 'deleted';
  const h = el('h2');
  h.append(icon(a?.status === 'running' ? 'sync~spin' : 'symbol-event'), el('span', '', displayText(a?.name ?? d.run?.name ?? d.actionId)));
  head.append(h, badge(status, l10n.t('Status: {0}', status)));
  box.append(head, buttons(d, on));
  const pay = d.payload && payloadView(d.payload, on);
  const items = [
    { id: 'overview', label: l10n.t('Overview'), content: overview(d, now, on) },
    ...(d.flow
      ? [
          {
            id: 'flow',
            label: l10n.t('Flow'),
            count: d.flow.steps.length,
            content: renderFlow(d.flow, d.run?.runId, now, {
              cancelFlow: (flowId) => on.act('cancelFlow', { flowId }),
              rerunFlow: (flowId) => on.act('rerunFlow', { flowId }),
              selectRun: on.selectRun,
            }),
          },
        ]
      : []),
    { id: 'timeline', label: l10n.t('Timeline'), count: d.timeline.length, content: timeline(d) },
    { id: 'output', label: l10n.t('Output'), content: output(d) },
    ...(pay ? [{ id: 'payload', label: l10n.t('Payload'), content: pay }] : []),
    ...(d.notifications?.length ? [{ id: 'notifications', label: l10n.t('Notifications'), count: d.notifications.length, content: notifications(d.notifications, now, on, d.actionId) }] : []),
  ];
  box.append(tabs(items, tab, on.tabChanged));
  return box;
}

/** A delivery from the inbox: what arrived (headers aside; Open Delivery has them) and what it ran. */
export function renderDeliveryDetails(d: DeliveryDetails, now: number, on: DetailsEvents): HTMLElement {
  const box = el('section', 'details');
  box.setAttribute('aria-label', l10n.t('Webhook delivery'));
  const dl = d.payload.delivery;
  const head = el('div', 'details-head');
  const h = el('h2');
  h.append(icon('mail'), el('span', '', l10n.t('Delivery to "{0}"', dl.hook)));
  head.append(h, badge(dl.status, l10n.t('Status: {0}', dl.status)));
  box.append(head, payloadView(d.payload, on));
  box.append(el('h3', '', d.runs.length ? l10n.t('Runs it queued') : l10n.t('Runs')));
  if (!d.runs.length) box.append(el('p', 'muted', dl.status === 'received' ? l10n.t('Not processed yet: the next tick queues its runs.') : l10n.t('No action was on this hook when it arrived.')));
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
