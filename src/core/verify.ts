// The lifecycle log is a complete account: folding its events from the first one left (after
// retention, the oldest events go; unfinished actions get a checkpoint event first) gives the
// actions, runs and webhook deliveries the tables hold. `sdlc-orchestrator verify` runs this
// fold and names every place where the tables and the log disagree. The fold is written apart
// from the transitions on purpose: it reads only what the events say.
import { FINISHED_ACTION_STATES, type ActionStatus, type FlowStatus, type LifecycleEvent, type StepStatus } from './model';
import type { Store } from './store/store';
import type { ActionState } from './transitions';

export interface Divergence {
  kind: 'action' | 'run' | 'delivery' | 'folder' | 'definition' | 'notification' | 'flow';
  id: string;
  /** The action's name, when known, so a person can find it. */
  name?: string;
  field: string;
  table: unknown;
  log: unknown;
  /** The last event the fold read about it (null: none). */
  seq: number | null;
}

export interface VerifyReport {
  ok: boolean;
  events: number;
  firstSeq: number | null;
  lastSeq: number | null;
  compared: { actions: number; runs: number; deliveries: number; definitions: number; notifications: number; flows: number };
  /** Rows older than the oldest event left, or from before events carried state: nothing to compare them with. */
  beforeLog: { actions: number; runs: number; deliveries: number; definitions: number; notifications: number; flows: number };
  divergences: Divergence[];
}

interface FoldAction {
  name?: string;
  state?: ActionState;
  seq: number;
}

interface FoldRun {
  actionId: string | null;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  attempt?: number;
  startedAt?: number;
  endedAt?: number;
  exitCode?: number | null;
  seq: number;
}

interface FoldDelivery {
  hook: string;
  status: 'received' | 'processed';
  seq: number;
}

interface FoldNotification {
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  seq: number;
}

interface FoldFlow {
  status: FlowStatus;
  steps: Map<string, { status: StepStatus; runId: string | null; attempt: number }>;
  seq: number;
}

const finished = (s: ActionStatus | undefined) => s !== undefined && FINISHED_ACTION_STATES.includes(s);
const RUN_END: Record<string, FoldRun['status'] | undefined> = { 'task.completed': 'succeeded', 'task.failed': 'failed', 'task.cancelled': 'cancelled' };

/** The state the log describes. */
export class Fold {
  readonly actions = new Map<string, FoldAction>();
  readonly runs = new Map<string, FoldRun>();
  readonly deliveries = new Map<string, FoldDelivery>();
  readonly notifications = new Map<string, FoldNotification>();
  readonly flows = new Map<string, FoldFlow>();
  /** What the actions file's reconciliation applied, by name. */
  readonly definitions = new Map<string, { hash: string; seq: number }>();
  paused: boolean | undefined;
  /** The seq of the latest retention pass: finished things from before it may be gone from the tables. */
  prunedAt = 0;
  events = 0;
  firstSeq: number | null = null;
  firstTs: number | null = null;
  lastSeq: number | null = null;

  apply(e: LifecycleEvent): void {
    this.events++;
    if (this.firstSeq === null) {
      this.firstSeq = e.seq;
      this.firstTs = e.ts;
    }
    this.lastSeq = e.seq;
    const d = e.data as Record<string, unknown>;
    if (e.actionId && d.state && typeof d.state === 'object') {
      const a = this.actions.get(e.actionId) ?? { seq: e.seq };
      a.state = d.state as ActionState;
      a.seq = e.seq;
      if (typeof d.name === 'string') a.name = d.name;
      this.actions.set(e.actionId, a);
    }
    if (e.type === 'task.deleted' && e.actionId) this.actions.delete(e.actionId);
    if (e.type === 'task.started' && e.runId) {
      this.runs.set(e.runId, { actionId: e.actionId, status: 'running', attempt: d.attempt as number, startedAt: e.ts, seq: e.seq });
    }
    const ended = RUN_END[e.type];
    if (ended && e.runId) {
      const r = this.runs.get(e.runId) ?? { actionId: e.actionId, status: ended, seq: e.seq };
      Object.assign(r, { status: ended, endedAt: e.ts, exitCode: (d.exitCode as number | null | undefined) ?? null, seq: e.seq });
      this.runs.set(e.runId, r);
    }
    if (e.type === 'webhook.received') this.deliveries.set(String(d.delivery), { hook: String(d.hook), status: 'received', seq: e.seq });
    if (e.type === 'webhook.processed') {
      const del = this.deliveries.get(String(d.delivery));
      if (del) Object.assign(del, { status: 'processed', seq: e.seq });
    }
    if (e.type === 'notification.queued') this.notifications.set(String(d.notification), { status: 'pending', attempts: 0, seq: e.seq });
    if (e.type === 'notification.attempted') {
      const n = this.notifications.get(String(d.notification)) ?? { status: 'pending', attempts: 0, seq: e.seq };
      Object.assign(n, { status: d.ok ? 'sent' : d.gaveUp ? 'failed' : 'pending', attempts: Number(d.attempt), seq: e.seq });
      this.notifications.set(String(d.notification), n);
    }
    if (e.type === 'flow.started') {
      const steps = new Map<string, { status: StepStatus; runId: string | null; attempt: number }>();
      for (const st of (d.steps ?? []) as { action: string }[]) steps.set(st.action, { status: 'waiting', runId: null, attempt: 0 });
      this.flows.set(String(d.flow), { status: 'running', steps, seq: e.seq });
    }
    const flow = typeof d.flow === 'string' ? this.flows.get(d.flow) : undefined;
    if (flow && e.type === 'flow.step' && e.actionId) {
      flow.steps.set(e.actionId, { status: d.status as StepStatus, runId: e.runId, attempt: Number(d.attempt) });
      flow.seq = e.seq;
    }
    if (flow && e.type === 'flow.ended') Object.assign(flow, { status: d.status as FlowStatus, seq: e.seq });
    if (flow && e.type === 'flow.rerun') Object.assign(flow, { status: 'running', seq: e.seq });
    if (e.type === 'orchestrator.paused') this.paused = true;
    if (e.type === 'orchestrator.resumed') this.paused = false;
    if (e.type === 'history.cleared') {
      // The same rule the clearing applied: everything finished goes, what runs or waits stays.
      for (const [id, r] of this.runs) if (r.status !== 'running') this.runs.delete(id);
      for (const [id, a] of this.actions) if (finished(a.state?.status)) this.actions.delete(id);
      for (const [id, del] of this.deliveries) if (del.status === 'processed') this.deliveries.delete(id);
      for (const [id, n] of this.notifications) if (n.status !== 'pending') this.notifications.delete(id);
      for (const [id, f] of this.flows) if (f.status !== 'running') this.flows.delete(id);
    }
    if (e.type === 'history.pruned') this.prunedAt = e.seq;
    if (e.type === 'definitions.applied') {
      for (const [name, hash] of Object.entries((d.set ?? {}) as Record<string, string>)) this.definitions.set(name, { hash, seq: e.seq });
      for (const name of (d.removed ?? []) as string[]) this.definitions.delete(name);
    }
  }
}

const ACTION_FIELDS = ['status', 'nextAt', 'dueAt', 'pending', 'running', 'attempt', 'held'] as const;

/** Folds the whole log and compares it with the tables. Reads everything: for the CLI, not the extension host. */
export function verifyStore(store: Store): VerifyReport {
  const fold = new Fold();
  for (let seq = 0; ; ) {
    const page = store.eventsSince(seq, 5000);
    if (!page.length) break;
    for (const e of page) fold.apply(e);
    seq = page[page.length - 1].seq;
  }
  const horizon = fold.firstTs ?? Number.POSITIVE_INFINITY;
  const divergences: Divergence[] = [];
  const compared = { actions: 0, runs: 0, deliveries: 0, definitions: 0, notifications: 0, flows: 0 };
  const beforeLog = { actions: 0, runs: 0, deliveries: 0, definitions: 0, notifications: 0, flows: 0 };
  const differ = (x: unknown, y: unknown) => (x ?? null) !== (y ?? null);

  const tableActions = store.allActions(Number.MAX_SAFE_INTEGER);
  const names = new Map(tableActions.map((a) => [a.id, a.name] as const));
  for (const row of tableActions) {
    const f = fold.actions.get(row.id);
    // Older than the log, or recorded only by events from before they carried the action's state.
    if ((!f && row.createdAt < horizon) || (f && !f.state)) {
      beforeLog.actions++;
      continue;
    }
    if (!f?.state) {
      divergences.push({ kind: 'action', id: row.id, name: row.name, field: 'row', table: row.status, log: 'no event records this action', seq: f?.seq ?? null });
      continue;
    }
    compared.actions++;
    const table: Record<string, unknown> = { status: row.status, nextAt: row.nextAt, dueAt: row.dueAt, pending: row.pending, running: row.running, attempt: row.attempt, held: row.held, gated: row.gate !== null };
    for (const field of ACTION_FIELDS) {
      if (differ(table[field], f.state[field])) divergences.push({ kind: 'action', id: row.id, name: row.name, field, table: table[field], log: f.state[field], seq: f.seq });
    }
    // Events from before schema 4 do not say; a gated row must have been recorded as gated.
    if (f.state.gated !== undefined && f.state.gated !== (row.gate !== null)) {
      divergences.push({ kind: 'action', id: row.id, name: row.name, field: 'gated', table: row.gate !== null, log: f.state.gated, seq: f.seq });
    }
  }
  const inTable = new Set(tableActions.map((a) => a.id));
  for (const [id, f] of fold.actions) {
    if (inTable.has(id)) continue;
    if (finished(f.state?.status) && fold.prunedAt > f.seq) continue; // removed by retention
    divergences.push({ kind: 'action', id, name: f.name, field: 'row', table: 'no row', log: f.state?.status ?? 'recorded', seq: f.seq });
  }

  const tableRuns = store.allRuns();
  for (const row of tableRuns) {
    const f = fold.runs.get(row.runId);
    if (!f) {
      if (row.startedAt < horizon) beforeLog.runs++;
      else divergences.push({ kind: 'run', id: row.runId, name: row.name, field: 'row', table: row.status, log: 'no task.started event for this run', seq: null });
      continue;
    }
    compared.runs++;
    const checks: [string, unknown, unknown][] = [
      ['status', row.status, f.status],
      ['endedAt', row.endedAt, f.endedAt],
      ['exitCode', row.exitCode, f.status === 'running' ? null : f.exitCode],
    ];
    if (f.attempt !== undefined) checks.push(['attempt', row.attempt, f.attempt]);
    if (f.startedAt !== undefined) checks.push(['startedAt', row.startedAt, f.startedAt]);
    for (const [field, t, l] of checks) if (differ(t, l)) divergences.push({ kind: 'run', id: row.runId, name: row.name, field, table: t, log: l, seq: f.seq });
  }
  const runsInTable = new Set(tableRuns.map((r) => r.runId));
  for (const [id, f] of fold.runs) {
    if (runsInTable.has(id)) continue;
    if (f.status !== 'running' && fold.prunedAt > f.seq) continue;
    divergences.push({ kind: 'run', id, name: f.actionId ? names.get(f.actionId) : undefined, field: 'row', table: 'no row', log: f.status, seq: f.seq });
  }

  const tableDeliveries = store.allDeliveries();
  for (const row of tableDeliveries) {
    const f = fold.deliveries.get(row.id);
    if (!f) {
      if (row.receivedAt < horizon) beforeLog.deliveries++;
      else divergences.push({ kind: 'delivery', id: row.id, field: 'row', table: row.status, log: 'no webhook.received event', seq: null });
      continue;
    }
    compared.deliveries++;
    if (row.status !== f.status) divergences.push({ kind: 'delivery', id: row.id, field: 'status', table: row.status, log: f.status, seq: f.seq });
    if (row.hook !== f.hook) divergences.push({ kind: 'delivery', id: row.id, field: 'hook', table: row.hook, log: f.hook, seq: f.seq });
  }
  const deliveriesInTable = new Set(tableDeliveries.map((d) => d.id));
  for (const [id, f] of fold.deliveries) {
    if (deliveriesInTable.has(id) || (f.status === 'processed' && fold.prunedAt > f.seq)) continue;
    divergences.push({ kind: 'delivery', id, field: 'row', table: 'no row', log: f.status, seq: f.seq });
  }

  const tableDefinitions = store.appliedDefinitions();
  for (const row of tableDefinitions) {
    const f = fold.definitions.get(row.name);
    if (!f) {
      if (row.appliedAt < horizon) beforeLog.definitions++;
      else divergences.push({ kind: 'definition', id: row.name, field: 'row', table: row.hash, log: 'no definitions.applied event set it', seq: null });
      continue;
    }
    compared.definitions++;
    if (f.hash !== row.hash) divergences.push({ kind: 'definition', id: row.name, field: 'hash', table: row.hash, log: f.hash, seq: f.seq });
  }
  const definitionsInTable = new Set(tableDefinitions.map((d) => d.name));
  for (const [name, f] of fold.definitions) {
    if (!definitionsInTable.has(name)) divergences.push({ kind: 'definition', id: name, field: 'row', table: 'no row', log: f.hash, seq: f.seq });
  }

  const tableNotifications = store.allNotifications();
  for (const row of tableNotifications) {
    const f = fold.notifications.get(row.id);
    if (!f) {
      if (row.createdAt < horizon) beforeLog.notifications++;
      else divergences.push({ kind: 'notification', id: row.id, name: names.get(row.actionId), field: 'row', table: row.status, log: 'no notification.queued event', seq: null });
      continue;
    }
    compared.notifications++;
    if (row.status !== f.status) divergences.push({ kind: 'notification', id: row.id, name: names.get(row.actionId), field: 'status', table: row.status, log: f.status, seq: f.seq });
    if (row.attempts !== f.attempts) divergences.push({ kind: 'notification', id: row.id, name: names.get(row.actionId), field: 'attempts', table: row.attempts, log: f.attempts, seq: f.seq });
  }
  const notificationsInTable = new Set(tableNotifications.map((n) => n.id));
  for (const [id, f] of fold.notifications) {
    if (notificationsInTable.has(id) || (f.status !== 'pending' && fold.prunedAt > f.seq)) continue;
    divergences.push({ kind: 'notification', id, field: 'row', table: 'no row', log: f.status, seq: f.seq });
  }

  const tableFlows = store.allFlows();
  for (const row of tableFlows) {
    const f = fold.flows.get(row.flowId);
    if (!f) {
      if (row.startedAt < horizon) beforeLog.flows++;
      else divergences.push({ kind: 'flow', id: row.flowId, name: row.name, field: 'row', table: row.status, log: 'no flow.started event', seq: null });
      continue;
    }
    compared.flows++;
    if (row.status !== f.status) divergences.push({ kind: 'flow', id: row.flowId, name: row.name, field: 'status', table: row.status, log: f.status, seq: f.seq });
    for (const st of row.steps ?? []) {
      const fs = f.steps.get(st.actionId);
      const where = `step ${st.name}`;
      if (!fs) {
        divergences.push({ kind: 'flow', id: row.flowId, name: row.name, field: where, table: st.status, log: 'not a step of the flow.started event', seq: f.seq });
        continue;
      }
      if (fs.status !== st.status) divergences.push({ kind: 'flow', id: row.flowId, name: row.name, field: `${where} status`, table: st.status, log: fs.status, seq: f.seq });
      if ((fs.runId ?? null) !== (st.runId ?? null)) divergences.push({ kind: 'flow', id: row.flowId, name: row.name, field: `${where} run`, table: st.runId, log: fs.runId, seq: f.seq });
      if (fs.attempt !== st.attempt) divergences.push({ kind: 'flow', id: row.flowId, name: row.name, field: `${where} attempt`, table: st.attempt, log: fs.attempt, seq: f.seq });
    }
  }
  const flowsInTable = new Set(tableFlows.map((f) => f.flowId));
  for (const [id, f] of fold.flows) {
    if (flowsInTable.has(id) || (f.status !== 'running' && fold.prunedAt > f.seq)) continue;
    divergences.push({ kind: 'flow', id, field: 'row', table: 'no row', log: f.status, seq: f.seq });
  }

  const paused = store.getMeta('paused') === '1';
  if (fold.paused !== undefined && fold.paused !== paused) divergences.push({ kind: 'folder', id: 'paused', field: 'paused', table: paused, log: fold.paused, seq: null });

  return { ok: divergences.length === 0, events: fold.events, firstSeq: fold.firstSeq, lastSeq: fold.lastSeq, compared, beforeLog, divergences };
}
