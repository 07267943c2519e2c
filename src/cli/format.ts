// How the CLI shows actions, runs and events: JSON for scripts, aligned text for people.
import { displayText } from '../core/displayText';
import { sparkline, type Health } from '../core/health';
import { describeTrigger, type Action, type Delivery, type Flow, type LifecycleEvent, type Notification } from '../core/model';
import { redactTarget } from '../core/notify/notifySpec';
import type { RunRow } from '../core/store/store';
import { formatDuration } from '../core/duration';
import type { VerifyReport } from '../core/verify';

import { iso } from '../core/api/json';

export { actionJson, eventJson, runJson } from '../core/api/json';

function table(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ')).join('\n') + '\n';
}

export function actionsText(actions: Action[], now: number, names?: Map<string, string>): string {
  if (!actions.length) return 'nothing queued\n';
  return table([
    ['ID', 'NAME', 'STATUS', 'DUE', 'TRIGGER'],
    ...actions.map((a) => [
      a.id,
      displayText(a.name) + (a.source === 'file' ? ' (file)' : ''),
      a.needsApproval ? 'needs approval' : a.status,
      a.dueAt === null ? '-' : a.dueAt <= now ? 'now' : `in ${formatDuration(a.dueAt - now)}`,
      displayText(describeTrigger(a.trigger, names && ((id) => names.get(id)))),
    ]),
  ]);
}

/** A health figure as a person reads it. */
function pct(h: Health): string {
  return h.successRate === null ? '-' : `${Math.round(h.successRate * 100)}% of ${h.succeeded + h.failed}`;
}

function trendText(h: Health): string {
  if (!h.trend) return '';
  return h.trend.word === 'steady' ? 'steady' : `${h.trend.word} ×${h.trend.ratio === Infinity ? '∞' : h.trend.ratio.toFixed(1)}`;
}

export function statsText(list: { name: string; health: Health }[]): string {
  if (!list.length) return 'no runs yet\n';
  return table([
    ['ACTION', 'SUCCEEDED', 'P50', 'P95', 'DURATIONS', 'TREND', 'FLAKY', 'LAST FAILURE'],
    ...list.map(({ name, health: h }) => [
      displayText(name),
      pct(h),
      h.p50Ms === null ? '-' : formatDuration(h.p50Ms),
      h.p95Ms === null ? '-' : formatDuration(h.p95Ms),
      sparkline(h.durations),
      trendText(h),
      h.flaky ? `flaky (${h.flips} flips)` : '',
      h.lastFailure ? `${iso(h.lastFailure.endedAt)} ${displayText(h.lastFailure.reason ?? '')}` : '',
    ]),
  ]);
}

export function statText(name: string, h: Health): string {
  const lines = [
    `${displayText(name)}: ${h.runs} latest run(s) looked at — ${h.succeeded} succeeded, ${h.failed} failed, ${h.cancelled} cancelled`,
    `success rate: ${h.successRate === null ? '-' : `${(h.successRate * 100).toFixed(1)}%`}`,
    `duration: p50 ${h.p50Ms === null ? '-' : formatDuration(h.p50Ms)}, p95 ${h.p95Ms === null ? '-' : formatDuration(h.p95Ms)}  ${sparkline(h.durations, 50)}`,
    `trend: ${h.trend ? `${trendText(h)} (the newer half's median against the older half's)` : 'too few runs to say'}`,
    `flaky: ${h.flaky ? `yes — ${h.flips} switches between success and failure with its definition unchanged` : `no (${h.flips} switch(es))`}`,
    `last failure: ${h.lastFailure ? `${iso(h.lastFailure.endedAt)}, run ${h.lastFailure.runId}: ${displayText(h.lastFailure.reason ?? `exit code ${h.lastFailure.exitCode}`)}` : 'none'}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function flowsText(flows: Flow[], now: number): string {
  if (!flows.length) return 'no flow runs\n';
  return table([
    ['FLOW', 'STARTED BY', 'STATUS', 'STARTED', 'DURATION', 'REASON'],
    ...flows.map((f) => [
      f.flowId.slice(0, 8),
      displayText(f.name),
      f.attempt > 1 ? `${f.status} (attempt ${f.attempt})` : f.status,
      iso(f.startedAt) ?? '-',
      formatDuration((f.endedAt ?? now) - f.startedAt),
      displayText(f.reason ?? ''),
    ]),
  ]);
}

/** One flow run, each step on a line in topological order, with what it waits for. */
export function flowText(f: Flow, now: number): string {
  const names = new Map((f.steps ?? []).map((s) => [s.actionId, s.name] as const));
  const head = `flow ${f.flowId} of "${displayText(f.name)}": ${f.status}${f.attempt > 1 ? ` (attempt ${f.attempt})` : ''}, started ${iso(f.startedAt)}${f.commit ? `, at commit ${f.commit.slice(0, 12)}` : ''}${f.reason ? ` — ${displayText(f.reason)}` : ''}\n`;
  return (
    head +
    table([
      ['STEP', 'STATUS', 'RUNS', 'DURATION', 'WHEN', 'REASON'],
      ...(f.steps ?? []).map((s) => [
        displayText(s.name),
        s.status,
        String(s.attempt),
        s.startedAt !== null ? formatDuration((s.endedAt ?? now) - s.startedAt) : '-',
        s.upstreams.length ? `after ${s.upstreams.map((u) => displayText(names.get(u) ?? u)).join(', ')}${s.cond !== 'success' ? ` (if ${s.cond})` : ''}` : 'first',
        displayText(s.reason ?? ''),
      ]),
    ])
  );
}

export function runsText(runs: RunRow[]): string {
  if (!runs.length) return 'no finished runs\n';
  return table([
    ['ENDED', 'NAME', 'STATUS', 'EXIT', 'DURATION', 'ATTEMPT', 'REASON'],
    ...runs.map((r) => [
      iso(r.endedAt) ?? '-',
      displayText(r.name),
      r.status,
      r.exitCode === null ? '-' : String(r.exitCode),
      r.endedAt !== null ? formatDuration(r.endedAt - r.startedAt) : '-',
      String(r.attempt),
      displayText(r.reason ?? ''),
    ]),
  ]);
}

export function eventText(e: LifecycleEvent): string {
  const data = Object.keys(e.data).length ? ` ${JSON.stringify(e.data)}` : '';
  return `${String(e.seq).padStart(6)} ${iso(e.ts)} ${e.type.padEnd(20)} ${e.actionId ?? ''}${e.runId ? ` run ${e.runId}` : ''}${data}`;
}

export function notificationsText(list: { n: Notification; name: string }[], now: number): string {
  if (!list.length) return 'no notifications\n';
  return table([
    ['ID', 'ACTION', 'STATUS', 'ATTEMPTS', 'TO', 'LAST ERROR'],
    ...list.map(({ n, name }) => [
      n.id.slice(0, 8),
      displayText(name),
      n.status === 'pending' ? `pending (next ${n.nextAt <= now ? 'now' : `in ${formatDuration(n.nextAt - now)}`})` : n.status,
      String(n.attempts),
      redactTarget(n.target),
      n.lastError ?? '',
    ]),
  ]);
}

export function deliveryJson(d: Delivery): Record<string, unknown> {
  return {
    id: d.id,
    hook: d.hook,
    status: d.status,
    receivedAt: iso(d.receivedAt),
    processedAt: iso(d.processedAt),
    externalId: d.externalId,
    source: d.source,
    size: d.size,
    sha256: d.sha256,
    replayOf: d.replayOf,
    actions: d.actions,
    headers: d.headers,
  };
}

export function deliveriesText(list: Delivery[], now: number): string {
  if (!list.length) return 'no webhook deliveries\n';
  return list
    .map((d) => {
      const what = d.status === 'received' ? 'received, not yet processed' : d.actions.length ? `ran ${d.actions.map((a) => a.name).join(', ')}` : 'no action on this hook';
      return `${d.id}  ${d.hook.padEnd(16)} ${formatDuration(Math.max(0, now - d.receivedAt))} ago  ${String(d.size).padStart(7)} B  ${what}${d.replayOf ? ` (replay of ${d.replayOf})` : ''}\n`;
    })
    .join('');
}

export function verifyText(r: VerifyReport): string {
  const span = r.firstSeq === null ? 'an empty log' : `${r.events} events (seq ${r.firstSeq}–${r.lastSeq})`;
  const counted = `${r.compared.actions} action(s), ${r.compared.runs} run(s), ${r.compared.deliveries} delivery(ies)${r.compared.definitions ? `, ${r.compared.definitions} file definition(s)` : ''}${r.compared.notifications ? `, ${r.compared.notifications} notification(s)` : ''}${r.compared.flows ? `, ${r.compared.flows} flow run(s)` : ''}`;
  const older = r.beforeLog.actions + r.beforeLog.runs + r.beforeLog.deliveries + r.beforeLog.definitions + r.beforeLog.notifications + r.beforeLog.flows;
  const note = older ? `; ${older} row(s) are older than the oldest event kept and were not compared` : '';
  if (r.ok) return `verified: ${span} account for ${counted}${note}\n`;
  const lines = r.divergences.map((d) => {
    const who = `${d.kind} ${d.id}${d.name !== undefined ? ` "${displayText(d.name)}"` : ''}`;
    const where = d.seq !== null ? ` (last event seq ${d.seq})` : '';
    return d.field === 'row'
      ? `  ${who}: the table has ${JSON.stringify(d.table)}, the log says ${JSON.stringify(d.log)}${where}`
      : `  ${who}: ${d.field} is ${JSON.stringify(d.table)} in the table, ${JSON.stringify(d.log)} in the log${where}`;
  });
  return `diverged: ${r.divergences.length} difference(s) between the tables and ${span} (compared ${counted}${note}):\n${lines.join('\n')}\n`;
}
