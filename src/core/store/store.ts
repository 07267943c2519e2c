// The engine's view of the sql.js database: every write is a named, parameterized
// statement, recorded while a transaction is open so the journal can replay it exactly.
// Prepared statements are cached and all freed on close.
import type { BindParams, Database, SqlValue, Statement } from 'sql.js';
import { displayText } from '../displayText';
import { dueKeyUpperBound } from '../dueKey';
import { ValidationError } from '../errors';
import { FINISHED_ACTION_STATES, type Action, type ActionStatus, type Delivery, type EventType, type LifecycleEvent, type Notification, type Run, type RunStatus, type RunSummary, type Trigger, type TriggerKind, type Flow, type FlowStep, type FlowStatus, type StepStatus, type FlowCondition } from '../model';
import type { NotifyFormat } from '../notify/notifySpec';

/** Every statement that changes the database. Journal records name these, so never change one's meaning. */
export const WRITES = {
  setMeta: 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  insertAction: `INSERT INTO actions (id, name, status, trigger, run, policy, next_at, occurrence_at, pending, pending_since,
      due_at, due_key, attempt, running, held, idempotency_key, upstream, hook, created_at, updated_at, last_run_id, reason)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  /** The one way an action changes state: guarded by the status it leaves. */
  updateAction: `UPDATE actions SET status = ?, next_at = ?, occurrence_at = ?, pending = ?, pending_since = ?, due_at = ?,
      due_key = ?, attempt = ?, running = ?, held = ?, updated_at = ?, last_run_id = ?, reason = ?
    WHERE id = ? AND status = ?`,
  deleteAction: 'DELETE FROM actions WHERE id = ? AND status = ?',
  insertRun: `INSERT INTO runs (run_id, action_id, name, runner, status, attempt, scheduled_for, started_at, cause, data, owner, deadline)
    VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?)`,
  insertTrigger: 'INSERT INTO triggers (action_id, cause, data, created_at) VALUES (?, ?, ?, ?)',
  deleteTrigger: 'DELETE FROM triggers WHERE id = ?',
  updateTrigger: 'UPDATE triggers SET cause = ?, data = ? WHERE id = ?',
  deleteTriggersOf: 'DELETE FROM triggers WHERE action_id = ?',
  finishRun: `UPDATE runs SET status = ?, ended_at = ?, exit_code = ?, reason = ?, output_tail = ?
    WHERE run_id = ? AND status = 'running'`,
  insertEvent: 'INSERT INTO events (ts, type, action_id, run_id, data) VALUES (?, ?, ?, ?, ?)',
  insertRequest: 'INSERT INTO requests (id, applied_at) VALUES (?, ?)',
  /** A request applied, with its reply (schema 3). */
  recordRequest: 'INSERT INTO requests (id, applied_at, reply) VALUES (?, ?, ?)',
  pruneRunsBefore: `DELETE FROM runs WHERE run_id IN
    (SELECT run_id FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? ORDER BY ended_at LIMIT ?)`,
  pruneRunsBeyond: `DELETE FROM runs WHERE run_id IN
    (SELECT run_id FROM runs WHERE ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT ? OFFSET ?)`,
  pruneEventsBefore: 'DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE ts < ? ORDER BY seq LIMIT ?)',
  pruneEventsBelow: 'DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ? ORDER BY seq LIMIT ?)',
  pruneEventsThrough: 'DELETE FROM events WHERE seq <= ?',
  pruneFinishedActions: `DELETE FROM actions WHERE id IN (SELECT id FROM actions
    WHERE status IN ('succeeded', 'failed', 'cancelled') AND updated_at < ? LIMIT ?)`,
  pruneRequests: 'DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE applied_at < ? LIMIT ?)',
  clearRuns: "DELETE FROM runs WHERE status != 'running'",
  clearFinishedActions: "DELETE FROM actions WHERE status IN ('succeeded', 'failed', 'cancelled')",
  // ---- the webhook inbox (schema 2) ----
  insertDelivery: `INSERT INTO deliveries (id, hook, external_id, status, received_at, source, headers, size, sha256, replay_of)
    VALUES (?, ?, ?, 'received', ?, ?, ?, ?, ?, ?)`,
  processDelivery: "UPDATE deliveries SET status = 'processed', processed_at = ?, actions = ? WHERE id = ? AND status = 'received'",
  deleteDelivery: "DELETE FROM deliveries WHERE id = ? AND status = 'processed'",
  setRunDelivery: 'UPDATE runs SET delivery_id = ? WHERE run_id = ?',
  // ---- actions from .sdlc/actions.yaml (schema 4) ----
  insertFileAction: `INSERT INTO actions (id, name, status, trigger, run, policy, next_at, occurrence_at, pending, pending_since,
      due_at, due_key, attempt, running, held, idempotency_key, upstream, hook, created_at, updated_at, last_run_id, reason, source, def_hash, gate)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, NULL, ?, ?, 0, 0, 0, NULL, ?, ?, ?, ?, NULL, NULL, 'file', ?, ?)`,
  /** A new definition for an action, guarded by its status; its state is then saved as any change is. */
  updateDefinition: `UPDATE actions SET trigger = ?, run = ?, policy = ?, upstream = ?, hook = ?, source = ?, def_hash = ?, gate = ?
    WHERE id = ? AND status = ?`,
  setDefinition: 'INSERT INTO definitions (name, hash, action_id, applied_at) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET hash = excluded.hash, action_id = excluded.action_id, applied_at = excluded.applied_at',
  deleteDefinition: 'DELETE FROM definitions WHERE name = ?',
  // ---- the notification outbox (schema 5) ----
  insertNotification: `INSERT INTO outbox (id, run_id, action_id, target, format, body, status, attempts, next_at, created_at)
    VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
  /** One attempt's outcome, guarded: only a pending notification is attempted. */
  attemptNotification: `UPDATE outbox SET status = ?, attempts = ?, next_at = ?, ended_at = ?, last_error = ?
    WHERE id = ? AND status = 'pending'`,
  pruneNotifications: `DELETE FROM outbox WHERE id IN
    (SELECT id FROM outbox WHERE ended_at IS NOT NULL AND ended_at < ? ORDER BY ended_at LIMIT ?)`,
  clearNotifications: "DELETE FROM outbox WHERE status != 'pending'",
  // ---- flows (schema 6) ----
  insertUpstream: 'INSERT OR IGNORE INTO action_after (action_id, upstream_id) VALUES (?, ?)',
  deleteUpstreams: 'DELETE FROM action_after WHERE action_id = ?',
  pruneUpstreams: 'DELETE FROM action_after WHERE action_id NOT IN (SELECT id FROM actions)',
  setPriority: 'UPDATE actions SET priority = ? WHERE id = ?',
  setRunFlow: 'UPDATE runs SET flow_id = ? WHERE run_id = ?',
  setRunOutputs: 'UPDATE runs SET outputs = ? WHERE run_id = ?',
  setRunWorktree: 'UPDATE runs SET worktree = ? WHERE run_id = ?',
  insertFlowTrigger: 'INSERT INTO triggers (action_id, cause, data, created_at, flow_id) VALUES (?, ?, ?, ?, ?)',
  insertFlow: "INSERT INTO flows (flow_id, root_action_id, name, status, started_at, open_steps) VALUES (?, ?, ?, 'running', ?, ?)",
  addOpenSteps: 'UPDATE flows SET open_steps = open_steps + ? WHERE flow_id = ?',
  setFlowCommit: 'UPDATE flows SET commit_sha = ? WHERE flow_id = ? AND commit_sha IS NULL',
  /** A flow ends, guarded: only a running one. */
  endFlow: "UPDATE flows SET status = ?, ended_at = ?, reason = ? WHERE flow_id = ? AND status = 'running'",
  /** "Re-run failed": an ended flow runs again. */
  reopenFlow: "UPDATE flows SET status = 'running', ended_at = NULL, reason = NULL, attempt = attempt + 1 WHERE flow_id = ? AND status IN ('failed', 'cancelled')",
  insertStep: "INSERT INTO flow_steps (flow_id, action_id, name, cond, status, remaining, position) VALUES (?, ?, ?, ?, 'waiting', ?, ?)",
  insertEdge: 'INSERT INTO flow_edges (flow_id, upstream_id, action_id) VALUES (?, ?, ?)',
  /** The one way a step changes: guarded by the status it leaves. */
  updateStep: `UPDATE flow_steps SET status = ?, remaining = ?, run_id = ?, attempt = ?, reason = ?, failed_path = ?, started_at = ?, ended_at = ?
    WHERE flow_id = ? AND action_id = ? AND status = ?`,
  deleteFlow: "DELETE FROM flows WHERE flow_id = ? AND status != 'running'",
  deleteFlowSteps: 'DELETE FROM flow_steps WHERE flow_id = ?',
  deleteFlowEdges: 'DELETE FROM flow_edges WHERE flow_id = ?',
  // ---- insight (schema 7) ----
  /** insertRun, with when the run could have started (the wait for a slot is the difference). */
  insertQueuedRun: `INSERT INTO runs (run_id, action_id, name, runner, status, attempt, scheduled_for, started_at, cause, data, owner, deadline, queued_at)
    VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)`,
  setDefinedAt: 'UPDATE actions SET defined_at = ? WHERE id = ?',
} as const;
export type WriteName = keyof typeof WRITES;
/** Binds `params` to a reset statement in place of `stmt.bind(params)` (see fastBind.ts). */
export type Binder = (stmt: Statement, params: SqlValue[]) => void;

export type Op = [WriteName, SqlValue[]];

const ACTION_COLUMNS = `id, name, status, trigger, run, policy, next_at, occurrence_at, pending, pending_since, due_at, attempt,
  running, held, idempotency_key, created_at, updated_at, last_run_id, reason, source, def_hash, gate`;
const RUN_COLUMNS =
  'run_id, action_id, name, runner, status, attempt, scheduled_for, started_at, ended_at, exit_code, reason, output_tail, cause, data, owner, deadline, flow_id, outputs, worktree, queued_at';

/** The action row with the columns the engine keeps but callers do not see. */
export interface ActionRow extends Action {
  nextAt: number | null;
  occurrenceAt: number | null;
  pendingSince: number | null;
  held: boolean;
  /** The file definition's hash, for actions from the actions file. */
  defHash: string | null;
  /** The approval key it waits for (a command from the actions file nobody approved yet). */
  gate: string | null;
}

/** A run as the Gantt view draws it. */
export interface GanttRow {
  runId: string;
  actionId: string;
  name: string;
  status: RunStatus;
  attempt: number;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  queuedAt: number | null;
}

/** What reconciliation last applied from the actions file for one name. */
export interface AppliedDefinition {
  name: string;
  hash: string;
  actionId: string;
  appliedAt: number;
}

export interface RunRow extends Run {
  scheduledFor: number | null;
  /** Extra environment for the run from its trigger (a webhook delivery, an upstream run). */
  data: Record<string, string>;
  owner: string;
  deadline: number | null;
}

type Row = Record<string, SqlValue>;

/** A trigger as stored; `after` named one id before schema 6. */
function parseTrigger(text: string): Trigger {
  const t = JSON.parse(text) as Trigger;
  if (t.kind === 'after' && !Array.isArray(t.after)) return { ...t, after: [t.after as unknown as string] };
  return t;
}

function toAction(r: Row): ActionRow {
  return {
    id: r.id as string,
    name: r.name as string,
    status: r.status as ActionStatus,
    trigger: parseTrigger(r.trigger as string),
    run: JSON.parse(r.run as string),
    policy: JSON.parse(r.policy as string),
    nextAt: r.next_at as number | null,
    occurrenceAt: r.occurrence_at as number | null,
    pending: r.pending as number,
    pendingSince: r.pending_since as number | null,
    dueAt: r.due_at as number | null,
    attempt: r.attempt as number,
    running: r.running as number,
    held: r.held === 1,
    idempotencyKey: r.idempotency_key as string | null,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
    lastRunId: r.last_run_id as string | null,
    reason: r.reason as string | null,
    source: r.source === 'file' ? 'file' : 'local',
    // A finished action keeps the gate it had (its last state), but waits for nothing any more.
    needsApproval: r.gate !== null && r.gate !== undefined && !FINISHED_ACTION_STATES.includes(r.status as ActionStatus),
    defHash: (r.def_hash as string | null) ?? null,
    gate: (r.gate as string | null) ?? null,
  };
}

function toRun(r: Row): RunRow {
  return {
    runId: r.run_id as string,
    actionId: r.action_id as string,
    name: r.name as string,
    runner: r.runner as string,
    status: r.status as RunStatus,
    attempt: r.attempt as number,
    scheduledFor: r.scheduled_for as number | null,
    startedAt: r.started_at as number,
    endedAt: r.ended_at as number | null,
    exitCode: r.exit_code as number | null,
    reason: r.reason as string | null,
    outputTail: r.output_tail as string,
    cause: r.cause as string,
    data: JSON.parse(r.data as string),
    owner: r.owner as string,
    deadline: r.deadline as number | null,
    flowId: (r.flow_id as string | null) ?? null,
    ...(r.outputs ? { outputs: JSON.parse(r.outputs as string) } : {}),
    worktree: (r.worktree as string | null) ?? null,
    queuedAt: (r.queued_at as number | null) ?? null,
  };
}

/** toRun's fields for a list, written out rather than spread: lists map thousands of rows. */
function toRunSummary(r: Row): RunSummary {
  return {
    runId: r.run_id as string,
    actionId: r.action_id as string,
    name: r.name as string,
    runner: r.runner as string,
    status: r.status as RunStatus,
    attempt: r.attempt as number,
    startedAt: r.started_at as number,
    endedAt: r.ended_at as number | null,
    exitCode: r.exit_code as number | null,
    reason: r.reason as string | null,
    cause: r.cause as string,
    flowId: (r.flow_id as string | null) ?? null,
    queuedAt: (r.queued_at as number | null) ?? null,
    command: r.task ? `task: ${r.task}` : ((r.command as string | null) ?? undefined),
    trigger: (r.trigger_kind as TriggerKind | null) ?? undefined,
  };
}

/** A run without its output or trigger data, and its action's command and trigger kind joined in. */
const RUN_SUMMARY_SELECT = `SELECT r.run_id, r.action_id, r.name, r.runner, r.status, r.attempt, r.started_at, r.ended_at, r.exit_code, r.reason, r.cause, r.flow_id, r.queued_at,
    json_extract(a.run, '$.command') AS command, json_extract(a.run, '$.task') AS task, json_extract(a.trigger, '$.kind') AS trigger_kind
  FROM runs r LEFT JOIN actions a ON a.id = r.action_id`;

const DELIVERY_COLUMNS = 'id, hook, external_id, status, received_at, processed_at, source, headers, size, sha256, replay_of, actions';

function toDelivery(r: Row): Delivery {
  return {
    id: r.id as string,
    hook: r.hook as string,
    externalId: r.external_id as string | null,
    status: r.status as Delivery['status'],
    receivedAt: r.received_at as number,
    processedAt: r.processed_at as number | null,
    source: r.source as string,
    headers: JSON.parse(r.headers as string),
    size: r.size as number,
    sha256: r.sha256 as string,
    replayOf: r.replay_of as string | null,
    actions: JSON.parse(r.actions as string),
  };
}

const FLOW_COLUMNS = 'flow_id, root_action_id, name, status, started_at, ended_at, commit_sha, reason, attempt';
const STEP_COLUMNS = 'action_id, name, cond, status, remaining, run_id, attempt, reason, failed_path, position, started_at, ended_at';

function toFlow(r: Row): Flow {
  return {
    flowId: r.flow_id as string,
    rootActionId: r.root_action_id as string,
    name: r.name as string,
    status: r.status as FlowStatus,
    startedAt: r.started_at as number,
    endedAt: r.ended_at as number | null,
    commit: r.commit_sha as string | null,
    reason: r.reason as string | null,
    attempt: r.attempt as number,
  };
}

function toStep(r: Row, upstreams: string[]): FlowStep {
  return {
    actionId: r.action_id as string,
    name: r.name as string,
    cond: r.cond as FlowCondition,
    upstreams,
    status: r.status as StepStatus,
    runId: r.run_id as string | null,
    attempt: r.attempt as number,
    reason: r.reason as string | null,
    position: r.position as number,
    startedAt: r.started_at as number | null,
    endedAt: r.ended_at as number | null,
  };
}

const NOTIFICATION_COLUMNS = 'id, run_id, action_id, target, format, body, status, attempts, next_at, created_at, ended_at, last_error';

function toNotification(r: Row): Notification {
  return {
    id: r.id as string,
    runId: r.run_id as string,
    actionId: r.action_id as string,
    target: r.target as string,
    format: r.format as NotifyFormat,
    body: r.body as string,
    status: r.status as Notification['status'],
    attempts: r.attempts as number,
    nextAt: r.next_at as number,
    createdAt: r.created_at as number,
    endedAt: r.ended_at as number | null,
    lastError: r.last_error as string | null,
  };
}

function toEvent(r: Row): LifecycleEvent {
  return {
    seq: r.seq as number,
    ts: r.ts as number,
    type: r.type as EventType,
    actionId: r.action_id as string | null,
    runId: r.run_id as string | null,
    data: JSON.parse(r.data as string),
  };
}

export class Store {
  private readonly statements = new Map<string, Statement>();
  /** Each cached statement's column names: getAsObject() asks sql.js for them on every row. */
  private readonly columns = new Map<Statement, string[]>();
  private ops: Op[] | undefined;
  constructor(
    readonly db: Database,
    /** Binds a write's values (fastBind.ts binds through SQLite's C API); sql.js's own bind without one. */
    private readonly bind?: Binder,
  ) {
    // The database lives in memory (sql.js); durability is the journal's and the snapshot's.
    // SQLite's own rollback journal and syncs would only be writes through sql.js's file
    // layer: keep the rollback journal in memory (ROLLBACK still works) and skip the syncs.
    db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY; PRAGMA locking_mode = EXCLUSIVE');
  }

  private prepared(sql: string): Statement {
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    return stmt;
  }

  private all(sql: string, params: BindParams = []): Row[] {
    const stmt = this.prepared(sql);
    try {
      stmt.bind(params);
      const rows: Row[] = [];
      let names: string[] | undefined;
      while (stmt.step()) {
        names ??= this.columns.get(stmt) ?? this.columnsOf(stmt);
        const values = stmt.get();
        const row: Row = {};
        for (let i = 0; i < names.length; i++) row[names[i]] = values[i];
        rows.push(row);
      }
      return rows;
    } finally {
      stmt.reset();
    }
  }

  private columnsOf(stmt: Statement): string[] {
    const names = stmt.getColumnNames();
    this.columns.set(stmt, names);
    return names;
  }

  /** BEGIN, COMMIT and ROLLBACK, prepared once: exec() parses its text on every call. */
  private control(sql: 'BEGIN' | 'COMMIT' | 'ROLLBACK'): void {
    this.prepared(sql).run();
  }

  private one(sql: string, params: BindParams = []): Row | undefined {
    return this.all(sql, params)[0];
  }

  // ---- transactions and writes ----

  get inTransaction(): boolean {
    return this.ops !== undefined;
  }

  /** Begins a transaction on the first write, so a tick that changes nothing costs no commit. */
  write(name: WriteName, params: SqlValue[]): number {
    if (!this.ops) {
      this.control('BEGIN');
      this.ops = [];
    }
    const changes = this.execute(name, params);
    if (changes > 0) this.ops.push([name, params]);
    return changes;
  }

  /**
   * Runs `fn` so that if it throws, its writes (and their journal ops) are undone while the
   * rest of the transaction stands: one bad request must not spoil a tick.
   */
  savepoint<T>(fn: () => T): T {
    if (!this.ops) {
      this.control('BEGIN');
      this.ops = [];
    }
    const mark = this.ops.length;
    this.db.exec('SAVEPOINT step');
    try {
      const result = fn();
      this.db.exec('RELEASE step');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK TO step');
      this.db.exec('RELEASE step');
      this.ops.length = mark;
      throw err;
    }
  }

  /** Runs a named write without recording it: used to replay the journal. */
  execute(name: WriteName, params: SqlValue[]): number {
    const stmt = this.prepared(WRITES[name]);
    try {
      if (this.bind) this.bind(stmt, params);
      else stmt.bind(params);
      stmt.step();
    } finally {
      stmt.reset();
    }
    return this.db.getRowsModified();
  }

  /** The ops of the open transaction (empty when nothing was written). */
  pendingOps(): Op[] {
    return this.ops ?? [];
  }

  commit(): void {
    if (!this.ops) return;
    this.ops = undefined;
    this.control('COMMIT');
  }

  rollback(): void {
    if (!this.ops) return;
    this.ops = undefined;
    this.control('ROLLBACK');
  }

  close(): void {
    if (this.ops) this.rollback();
    for (const stmt of this.statements.values()) stmt.free();
    this.statements.clear();
    this.columns.clear();
    this.db.close();
  }

  // ---- meta ----

  getMeta(key: string): string | undefined {
    return this.one('SELECT value FROM meta WHERE key = ?', [key])?.value as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.write('setMeta', [key, value]);
  }

  // ---- actions ----

  getAction(id: string): ActionRow | undefined {
    const r = this.one(`SELECT ${ACTION_COLUMNS} FROM actions WHERE id = ?`, [id]);
    return r && toAction(r);
  }

  /**
   * By id, or else by exact name: the one active action of that name, else the latest finished
   * one. Two active actions with the name is an error naming their ids: guessing would act
   * on the wrong one.
   */
  findAction(idOrName: string): ActionRow | undefined {
    const byId = this.getAction(idOrName);
    if (byId) return byId;
    const rows = this.all(
      `SELECT ${ACTION_COLUMNS} FROM actions WHERE name = ?
       ORDER BY status IN ('succeeded', 'failed', 'cancelled'), created_at DESC LIMIT 20`,
      [idOrName],
    ).map(toAction);
    const active = rows.filter((a) => !['succeeded', 'failed', 'cancelled'].includes(a.status));
    if (active.length > 1) {
      throw new ValidationError(
        'id',
        `${active.length} actions are named "${displayText(idOrName)}" (${active.map((a) => a.id).join(', ')}); say which one by its id`,
      );
    }
    return rows[0];
  }

  getActionByKey(key: string): ActionRow | undefined {
    const r = this.one(`SELECT ${ACTION_COLUMNS} FROM actions WHERE idempotency_key = ?`, [key]);
    return r && toAction(r);
  }

  /**
   * Everything of one priority due at `now`, oldest first: one range scan over the claim index
   * (priority, due key). Only ids are scanned (an empty scan of the full row costs three times as
   * much, on every idle tick).
   */
  dueActions(now: number, limit: number, priority = 0): ActionRow[] {
    // The rows themselves, in the one range scan (a second lookup per row cost the claim a third).
    // The priority and the limit are written into the text, not bound: sql.js's SQLite plans a
    // statement again when a parameter that picks the index changes (17 µs against 2 µs a
    // claim). Both are integers (the priority validated, the limit rounded up to a power of
    // two), so the statements cached stay few.
    const p = Math.trunc(priority);
    const n = 2 ** Math.ceil(Math.log2(Math.max(1, limit)));
    return this.all(`SELECT ${ACTION_COLUMNS} FROM actions WHERE priority = ${p} AND due_key <= ? ORDER BY priority, due_key LIMIT ${n}`, [dueKeyUpperBound(now)])
      .slice(0, limit)
      .map(toAction);
  }

  /** The priorities unfinished actions have (the claim takes them highest first). */
  priorities(): number[] {
    return this.all("SELECT DISTINCT priority FROM actions WHERE status IN ('waiting', 'scheduled', 'retrying', 'running', 'paused')").map((r) => r.priority as number);
  }

  /** The earliest due time after `now` (for the loop's sleep), or null. */
  nextDueAfter(now: number): number | null {
    const r = this.one('SELECT due_at FROM actions WHERE due_key > ? ORDER BY due_key LIMIT 1', [dueKeyUpperBound(now)]);
    return r ? (r.due_at as number) : null;
  }

  /** Actions not finished: running first, then by due time, then waiting, then paused. */
  activeActions(): ActionRow[] {
    return this.all(
      `SELECT ${ACTION_COLUMNS} FROM actions WHERE status IN ('waiting', 'scheduled', 'retrying', 'running', 'paused')
       ORDER BY CASE status WHEN 'running' THEN 0 WHEN 'scheduled' THEN 1 WHEN 'retrying' THEN 1 WHEN 'waiting' THEN 2 ELSE 3 END,
         due_at IS NULL, due_at, created_at`,
    ).map(toAction);
  }

  /**
   * Unfinished actions with a development-event trigger, not held: what the file and git
   * watchers serve. Selected by the trigger's stored JSON (its kind is written first), so
   * a folder of 10,000 scheduled actions parses none of them.
   */
  devTriggeredActions(): ActionRow[] {
    return this.all(
      `SELECT ${ACTION_COLUMNS} FROM actions WHERE status IN ('waiting', 'scheduled', 'retrying', 'running') AND held = 0 AND gate IS NULL
       AND (trigger LIKE '{"kind":"change"%' OR trigger LIKE '{"kind":"git"%' OR trigger LIKE '{"kind":"open"%' OR trigger LIKE '{"kind":"afterTask"%')`,
    ).map(toAction);
  }

  allActions(limit = 10_000): ActionRow[] {
    return this.all(`SELECT ${ACTION_COLUMNS} FROM actions ORDER BY created_at DESC LIMIT ?`, [limit]).map(toAction);
  }

  /** Unfinished actions whose next time-based start is after `now` (rare: after the clock stepped back). */
  actionsWithNextAfter(now: number): ActionRow[] {
    return this.all(`SELECT ${ACTION_COLUMNS} FROM actions WHERE next_at > ? AND status IN ('scheduled', 'retrying', 'paused')`, [now]).map(toAction);
  }

  /** What reconciliation compares for each unfinished file action, without reading whole rows. */
  fileActionHeads(): { id: string; name: string; defHash: string | null; gate: string | null; upstreams: string[] }[] {
    return this.all(
      `SELECT id, name, def_hash, gate, (SELECT group_concat(upstream_id, ' ') FROM action_after WHERE action_id = id) AS ups
       FROM actions WHERE source = 'file' AND status IN ('waiting', 'scheduled', 'retrying', 'running', 'paused')`,
    ).map((r) => ({
      id: r.id as string,
      name: r.name as string,
      defHash: r.def_hash as string | null,
      gate: r.gate as string | null,
      upstreams: r.ups ? (r.ups as string).split(' ').sort() : [],
    }));
  }

  /** Unfinished file actions waiting for approval of one of these keys. */
  gatedActions(): ActionRow[] {
    return this.all(`SELECT ${ACTION_COLUMNS} FROM actions WHERE source = 'file' AND gate IS NOT NULL AND status IN ('waiting', 'scheduled', 'retrying', 'running', 'paused')`).map(toAction);
  }

  appliedDefinitions(): AppliedDefinition[] {
    return this.all('SELECT name, hash, action_id, applied_at FROM definitions').map((r) => ({
      name: r.name as string,
      hash: r.hash as string,
      actionId: r.action_id as string,
      appliedAt: r.applied_at as number,
    }));
  }

  dependentsOf(upstreamId: string): ActionRow[] {
    return this.all(`SELECT ${ACTION_COLUMNS} FROM actions WHERE id IN (SELECT action_id FROM action_after WHERE upstream_id = ?)`, [upstreamId]).map(toAction);
  }

  /** The actions that follow others (those not cancelled: a finished one may run again), for the flow graph (read once per change of definitions). */
  followingActions(): { id: string; name: string; trigger: Trigger; isolated: boolean }[] {
    return this.all(
      `SELECT id, name, trigger, json_extract(run, '$.isolation') AS isolation FROM actions WHERE id IN (SELECT action_id FROM action_after) AND status != 'cancelled'`,
    ).map((r) => ({ id: r.id as string, name: r.name as string, trigger: parseTrigger(r.trigger as string), isolated: r.isolation === 'worktree' }));
  }

  /** Names of these actions (those stored), for showing `after` by name. */
  namesOf(ids: readonly string[]): Map<string, string> {
    const out = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      for (const r of this.all(`SELECT id, name FROM actions WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk)) out.set(r.id as string, r.name as string);
    }
    return out;
  }


  /** Counts of active actions by status, for status displays and --exit-when-idle. */
  countsByStatus(): Partial<Record<ActionStatus, number>> {
    const out: Partial<Record<ActionStatus, number>> = {};
    for (const r of this.all("SELECT status, count(*) AS n FROM actions WHERE status IN ('waiting', 'scheduled', 'retrying', 'running', 'paused') GROUP BY status")) {
      out[r.status as ActionStatus] = r.n as number;
    }
    return out;
  }

  // ---- runs ----

  getRun(runId: string): RunRow | undefined {
    const r = this.one(`SELECT ${RUN_COLUMNS} FROM runs WHERE run_id = ?`, [runId]);
    return r && toRun(r);
  }

  runningRuns(): RunRow[] {
    return this.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE status = 'running' ORDER BY started_at`).map(toRun);
  }

  /** Finished runs, latest first; `beforeEndedAt` pages back through history. */
  history(limit: number, beforeEndedAt?: number): RunRow[] {
    return this.all(
      `SELECT ${RUN_COLUMNS} FROM runs WHERE ended_at IS NOT NULL AND ended_at < ? ORDER BY ended_at DESC LIMIT ?`,
      [beforeEndedAt ?? Number.MAX_SAFE_INTEGER, limit],
    ).map(toRun);
  }

  /**
   * Finished runs for a list, latest first: no output or trigger data, and the action's
   * command and trigger kind joined in (the panel filters on them). A third of the cost of
   * history() per row. Pages back from `before`, the last run of the previous page: by end
   * time, then run id, so runs that ended in the same millisecond are neither lost nor repeated.
   * Written as one range on ended_at (not an OR) so the index walks only the page: ~1 ms, not ~13.
   */
  runSummaries(limit: number, before?: { endedAt: number; runId: string }): RunSummary[] {
    return this.all(
      `${RUN_SUMMARY_SELECT}
       WHERE r.ended_at IS NOT NULL AND r.ended_at <= ? AND NOT (r.ended_at = ? AND r.run_id >= ?)
       ORDER BY r.ended_at DESC, r.run_id DESC LIMIT ?`,
      [before?.endedAt ?? Number.MAX_SAFE_INTEGER, before?.endedAt ?? Number.MAX_SAFE_INTEGER, before?.runId ?? '', limit],
    ).map(toRunSummary);
  }

  /** Summaries of the runs with these ids (what one commit touched), in no particular order. */
  runSummariesByIds(runIds: string[]): RunSummary[] {
    const out: RunSummary[] = [];
    // In chunks: a burst can touch more runs than SQLite takes parameters in one statement.
    for (let i = 0; i < runIds.length; i += 500) {
      const ids = runIds.slice(i, i + 500);
      out.push(...this.all(`${RUN_SUMMARY_SELECT} WHERE r.run_id IN (${ids.map(() => '?').join(', ')})`, ids).map(toRunSummary));
    }
    return out;
  }

  /** An action's runs, newest first. */
  runSummariesOf(actionId: string, limit: number): RunSummary[] {
    return this.all(`${RUN_SUMMARY_SELECT} WHERE r.action_id = ? ORDER BY r.started_at DESC LIMIT ?`, [actionId, limit]).map(toRunSummary);
  }

  /** The runs a webhook delivery queued, oldest first. */
  runSummariesOfDelivery(deliveryId: string): RunSummary[] {
    return this.all(`${RUN_SUMMARY_SELECT} WHERE r.delivery_id = ? ORDER BY r.started_at`, [deliveryId]).map(toRunSummary);
  }

  runsOf(actionId: string, limit = 100): RunRow[] {
    return this.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE action_id = ? ORDER BY started_at DESC LIMIT ?`, [actionId, limit]).map(toRun);
  }

  // ---- events ----

  addEvent(ts: number, type: EventType, actionId: string | null, runId: string | null, data: Record<string, unknown> = {}): void {
    this.write('insertEvent', [ts, type, actionId, runId, JSON.stringify(data)]);
  }

  eventsSince(seq: number, limit = 1000): LifecycleEvent[] {
    return this.all('SELECT seq, ts, type, action_id, run_id, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?', [seq, limit]).map(toEvent);
  }


  /** One action's lifecycle, newest `limit` events, oldest first (the events_action index). */
  eventsOf(actionId: string, limit = 500): LifecycleEvent[] {
    return this.all('SELECT seq, ts, type, action_id, run_id, data FROM events WHERE action_id = ? ORDER BY seq DESC LIMIT ?', [actionId, limit])
      .map(toEvent)
      .reverse();
  }

  /** Problems the engine recorded (a damaged journal, a database moved aside) since `since`, newest first. */
  warningsSince(since: number, limit = 5): LifecycleEvent[] {
    return this.all("SELECT seq, ts, type, action_id, run_id, data FROM events WHERE type = 'engine.warning' AND ts >= ? ORDER BY seq DESC LIMIT ?", [since, limit]).map(toEvent);
  }

  /** The oldest events' seq and time (retention decides how many of them go). */
  eventsHead(limit: number): { seq: number; ts: number }[] {
    return this.all('SELECT seq, ts FROM events ORDER BY seq LIMIT ?', [limit]).map((r) => ({ seq: r.seq as number, ts: r.ts as number }));
  }

  /** Unfinished actions with no event after `seq` (one index probe each). */
  activeActionsWithoutEventsAfter(seq: number): ActionRow[] {
    return this.all(
      `SELECT ${ACTION_COLUMNS} FROM actions a WHERE status IN ('waiting', 'scheduled', 'retrying', 'running', 'paused')
       AND NOT EXISTS (SELECT 1 FROM events e WHERE e.action_id = a.id AND e.seq > ?)`,
      [seq],
    ).map(toAction);
  }

  /** Every run, for the verifier (a CLI command, not the extension host). */
  allRuns(): RunRow[] {
    return this.all(`SELECT ${RUN_COLUMNS} FROM runs`).map(toRun);
  }

  allDeliveries(): Delivery[] {
    return this.all(`SELECT ${DELIVERY_COLUMNS} FROM deliveries`).map(toDelivery);
  }

  lastSeq(): number {
    return (this.one('SELECT max(seq) AS s FROM events')?.s as number | null) ?? 0;
  }

  // ---- queued triggers ----

  /** The oldest queued trigger of an action. */
  nextTrigger(actionId: string): { id: number; cause: string; data: Record<string, string>; flowId: string | null; createdAt: number } | undefined {
    const r = this.one('SELECT id, cause, data, flow_id, created_at FROM triggers WHERE action_id = ? ORDER BY id LIMIT 1', [actionId]);
    return r && { id: r.id as number, cause: r.cause as string, data: JSON.parse(r.data as string), flowId: (r.flow_id as string | null) ?? null, createdAt: r.created_at as number };
  }

  /** A flow's queued step runs. */
  triggersOfFlow(flowId: string): { id: number; actionId: string }[] {
    return this.all('SELECT id, action_id FROM triggers WHERE flow_id = ?', [flowId]).map((r) => ({ id: r.id as number, actionId: r.action_id as string }));
  }

  /** The newest queued trigger of an action (a burst of events folds into it). */
  lastTrigger(actionId: string): { id: number; cause: string; data: Record<string, string> } | undefined {
    const r = this.one('SELECT id, cause, data FROM triggers WHERE action_id = ? ORDER BY id DESC LIMIT 1', [actionId]);
    return r && { id: r.id as number, cause: r.cause as string, data: JSON.parse(r.data as string) };
  }

  // ---- the webhook inbox ----

  getDelivery(id: string): Delivery | undefined {
    const r = this.one(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE id = ?`, [id]);
    return r && toDelivery(r);
  }

  deliveryByExternalId(hook: string, externalId: string): Delivery | undefined {
    const r = this.one(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE hook = ? AND external_id = ?`, [hook, externalId]);
    return r && toDelivery(r);
  }

  /** Deliveries stored but not yet turned into runs, oldest first. */
  receivedDeliveries(limit: number): Delivery[] {
    return this.all(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE status = 'received' ORDER BY received_at LIMIT ?`, [limit]).map(toDelivery);
  }

  /** The inbox, latest first; `beforeReceivedAt` pages back. */
  deliveries(limit: number, beforeReceivedAt?: number): Delivery[] {
    return this.all(`SELECT ${DELIVERY_COLUMNS} FROM deliveries WHERE received_at < ? ORDER BY received_at DESC LIMIT ?`, [
      beforeReceivedAt ?? Number.MAX_SAFE_INTEGER,
      limit,
    ]).map(toDelivery);
  }

  /**
   * At most how many rows `table` holds: the span of its rowids, found by two index lookups.
   * Retention's "beyond the newest N" walks N index entries to find them; at 500k history rows
   * kept (retention raised past them) that walk was a 24 ms tick every minute, and 150 ms the
   * first time after a start, as the pages came from disk. A table that cannot hold more than
   * N rows has none beyond them, and skips it.
   */
  rowsAtMost(table: 'runs' | 'flows' | 'deliveries'): number {
    const max = this.one(`SELECT max(rowid) AS v FROM ${table}`)?.v;
    if (typeof max !== 'number') return 0;
    const min = this.one(`SELECT min(rowid) AS v FROM ${table}`)?.v as number;
    return max - min + 1;
  }

  /** Processed deliveries to prune: older than `before`, or beyond the newest `keep`. */
  prunableDeliveries(before: number, keep: number, limit: number): string[] {
    if (this.rowsAtMost('deliveries') <= keep) {
      return this.all("SELECT id FROM deliveries WHERE status = 'processed' AND received_at < ? LIMIT ?", [before, limit]).map((r) => r.id as string);
    }
    return this.all(
      `SELECT id FROM deliveries WHERE status = 'processed' AND (received_at < ? OR id IN
         (SELECT id FROM deliveries ORDER BY received_at DESC LIMIT -1 OFFSET ?)) LIMIT ?`,
      [before, keep, limit],
    ).map((r) => r.id as string);
  }

  allDeliveryIds(): Set<string> {
    return new Set(this.all('SELECT id FROM deliveries').map((r) => r.id as string));
  }

  processedDeliveryIds(limit: number): string[] {
    return this.all("SELECT id FROM deliveries WHERE status = 'processed' LIMIT ?", [limit]).map((r) => r.id as string);
  }

  runsOfDelivery(deliveryId: string): RunRow[] {
    return this.all(`SELECT ${RUN_COLUMNS} FROM runs WHERE delivery_id = ? ORDER BY started_at`, [deliveryId]).map(toRun);
  }

  /** Actions a delivery to `hook` queues a run for: those not finished. */
  actionsOnHook(hook: string): ActionRow[] {
    return this.all(
      `SELECT ${ACTION_COLUMNS} FROM actions WHERE hook = ? AND status NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY created_at`,
      [hook],
    ).map(toAction);
  }

  hookIsKnown(hook: string): boolean {
    return this.one("SELECT 1 AS x FROM actions WHERE hook = ? AND status NOT IN ('succeeded', 'failed', 'cancelled') LIMIT 1", [hook]) !== undefined;
  }

  // ---- the notification outbox ----

  /** Pending notifications due by `now`, oldest due first (the outbox_pending index). */
  dueNotifications(now: number, limit: number): Notification[] {
    return this.all(`SELECT ${NOTIFICATION_COLUMNS} FROM outbox WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?`, [now, limit]).map(toNotification);
  }

  /** The next time a pending notification is due after `now` (ones due by now are being sent). */
  nextNotificationAfter(now: number): number | null {
    return (this.one("SELECT min(next_at) AS t FROM outbox WHERE status = 'pending' AND next_at > ?", [now])?.t as number | null) ?? null;
  }

  /** An action's notifications, newest first. */
  notificationsOf(actionId: string, limit: number): Notification[] {
    return this.all(`SELECT ${NOTIFICATION_COLUMNS} FROM outbox WHERE action_id = ? ORDER BY created_at DESC LIMIT ?`, [actionId, limit]).map(toNotification);
  }

  /** The newest notifications of the folder, newest first. */
  notifications(limit: number): Notification[] {
    return this.all(`SELECT ${NOTIFICATION_COLUMNS} FROM outbox ORDER BY created_at DESC LIMIT ?`, [limit]).map(toNotification);
  }

  allNotifications(): Notification[] {
    return this.all(`SELECT ${NOTIFICATION_COLUMNS} FROM outbox`).map(toNotification);
  }

  /**
   * Runs for the API's list, newest start first, filtered by status and action. With an action
   * the runs_action index walks only its runs; without one runs_started walks back from `before`.
   */
  runsPage(filter: { status?: string; actionId?: string; before?: number; limit: number }): RunSummary[] {
    const where = ['r.started_at < ?'];
    const params: SqlValue[] = [filter.before ?? Number.MAX_SAFE_INTEGER];
    if (filter.actionId) {
      where.push('r.action_id = ?');
      params.push(filter.actionId);
    }
    if (filter.status) {
      where.push('r.status = ?');
      params.push(filter.status);
    }
    params.push(filter.limit);
    return this.all(`${RUN_SUMMARY_SELECT} WHERE ${where.join(' AND ')} ORDER BY r.started_at DESC LIMIT ?`, params).map(toRunSummary);
  }

  // ---- flows ----

  getFlow(flowId: string): Flow | undefined {
    const r = this.one(`SELECT ${FLOW_COLUMNS} FROM flows WHERE flow_id = ?`, [flowId]);
    return r && toFlow(r);
  }

  /** The one flow whose id starts with `prefix` (ids are shown shortened), or undefined. */
  flowByPrefix(prefix: string): Flow | undefined {
    if (prefix.length < 4 || !/^[0-9a-f-]+$/i.test(prefix)) return undefined;
    const rows = this.all(`SELECT ${FLOW_COLUMNS} FROM flows WHERE flow_id >= ? AND flow_id < ? LIMIT 2`, [prefix.toLowerCase(), `${prefix.toLowerCase()}\uffff`]);
    if (rows.length > 1) throw new ValidationError('flow', `more than one flow id starts with "${prefix}"; give more of it`);
    return rows[0] && toFlow(rows[0]);
  }

  /** A flow with its steps in topological order, each with its upstreams. */
  flowWithSteps(flowId: string): Flow | undefined {
    const flow = this.getFlow(flowId);
    if (!flow) return undefined;
    const ups = new Map<string, string[]>();
    for (const e of this.all('SELECT upstream_id, action_id FROM flow_edges WHERE flow_id = ?', [flowId])) {
      const list = ups.get(e.action_id as string);
      if (list) list.push(e.upstream_id as string);
      else ups.set(e.action_id as string, [e.upstream_id as string]);
    }
    flow.steps = this.all(`SELECT ${STEP_COLUMNS} FROM flow_steps WHERE flow_id = ? ORDER BY position`, [flowId]).map((r) => toStep(r, ups.get(r.action_id as string) ?? []));
    // Upstreams in the flow's order, as the steps are.
    const position = new Map(flow.steps.map((s) => [s.actionId, s.position] as const));
    for (const s of flow.steps) s.upstreams.sort((x, y) => (position.get(x) ?? 0) - (position.get(y) ?? 0));
    return flow;
  }

  getStep(flowId: string, actionId: string): (FlowStep & { remaining: number; failedPath: boolean }) | undefined {
    const r = this.one(`SELECT ${STEP_COLUMNS} FROM flow_steps WHERE flow_id = ? AND action_id = ?`, [flowId, actionId]);
    return r && { ...toStep(r, []), remaining: r.remaining as number, failedPath: r.failed_path === 1 };
  }

  /** The steps that follow this one in the flow. */
  downstreamSteps(flowId: string, upstreamId: string): string[] {
    return this.all('SELECT action_id FROM flow_edges WHERE flow_id = ? AND upstream_id = ?', [flowId, upstreamId]).map((r) => r.action_id as string);
  }

  /** How the steps before this one ended, with their latest runs' outputs. */
  upstreamSteps(flowId: string, actionId: string): { actionId: string; name: string; status: StepStatus; failedPath: boolean; runId: string | null; outputs?: Record<string, string> }[] {
    return this.all(
      `SELECT s.action_id, s.name, s.status, s.failed_path, s.run_id, r.outputs FROM flow_edges e
       JOIN flow_steps s ON s.flow_id = e.flow_id AND s.action_id = e.upstream_id
       LEFT JOIN runs r ON r.run_id = s.run_id
       WHERE e.flow_id = ? AND e.action_id = ? ORDER BY s.position`,
      [flowId, actionId],
    ).map((r) => ({
      actionId: r.action_id as string,
      name: r.name as string,
      status: r.status as StepStatus,
      failedPath: r.failed_path === 1,
      runId: r.run_id as string | null,
      ...(r.outputs ? { outputs: JSON.parse(r.outputs as string) } : {}),
    }));
  }

  /** Steps of a flow in these states. */
  stepsIn(flowId: string, states: readonly StepStatus[]): (FlowStep & { remaining: number })[] {
    return this.all(`SELECT ${STEP_COLUMNS} FROM flow_steps WHERE flow_id = ? AND status IN (${states.map(() => '?').join(', ')}) ORDER BY position`, [flowId, ...states]).map(
      (r) => ({ ...toStep(r, []), remaining: r.remaining as number }),
    );
  }

  /** Flows, latest start first; `before` pages back. */
  flows(limit: number, before?: number, status?: FlowStatus): Flow[] {
    return this.all(
      `SELECT ${FLOW_COLUMNS} FROM flows WHERE started_at < ? ${status ? 'AND status = ?' : ''} ORDER BY started_at DESC LIMIT ?`,
      status ? [before ?? Number.MAX_SAFE_INTEGER, status, limit] : [before ?? Number.MAX_SAFE_INTEGER, limit],
    ).map(toFlow);
  }

  openSteps(flowId: string): number {
    return (this.one('SELECT open_steps FROM flows WHERE flow_id = ?', [flowId])?.open_steps as number | undefined) ?? 0;
  }

  /** An action's queued runs that are steps of flows. */
  flowTriggersOf(actionId: string): { id: number; flowId: string }[] {
    return this.all('SELECT id, flow_id FROM triggers WHERE action_id = ? AND flow_id IS NOT NULL', [actionId]).map((r) => ({ id: r.id as number, flowId: r.flow_id as string }));
  }

  /**
   * An action's latest `limit` ended runs, newest first: what its health is computed from (the
   * runs_action index walks back from the newest; running runs are skipped).
   */
  recentEnded(actionId: string, limit: number): { runId: string; status: RunStatus; startedAt: number; endedAt: number; exitCode: number | null; reason: string | null }[] {
    return this.all(
      'SELECT run_id, status, started_at, ended_at, exit_code, reason FROM runs WHERE action_id = ? AND ended_at IS NOT NULL ORDER BY started_at DESC LIMIT ?',
      [actionId, limit],
    ).map((r) => ({ runId: r.run_id as string, status: r.status as RunStatus, startedAt: r.started_at as number, endedAt: r.ended_at as number, exitCode: r.exit_code as number | null, reason: r.reason as string | null }));
  }

  /** The latest failed run among an action's newest `within` runs (a bounded walk of runs_action). */
  lastFailure(actionId: string, within: number): { runId: string; endedAt: number; exitCode: number | null; reason: string | null } | undefined {
    const r = this.one(
      `SELECT run_id, ended_at, exit_code, reason FROM (SELECT run_id, status, started_at, ended_at, exit_code, reason FROM runs WHERE action_id = ? ORDER BY started_at DESC LIMIT ?)
       WHERE status = 'failed' ORDER BY started_at DESC LIMIT 1`,
      [actionId, within],
    );
    return r && { runId: r.run_id as string, endedAt: r.ended_at as number, exitCode: r.exit_code as number | null, reason: r.reason as string | null };
  }

  /** When an action's definition (trigger, run, policy) last changed (null: from before schema 7). */
  definedAt(actionId: string): number | null {
    return (this.one('SELECT defined_at FROM actions WHERE id = ?', [actionId])?.defined_at as number | null | undefined) ?? null;
  }

  /** Ids and names of the actions that have runs, for `stats` (stored actions; finished ones too). */
  actionsWithRuns(limit: number): { id: string; name: string }[] {
    return this.all('SELECT id, name FROM actions a WHERE EXISTS (SELECT 1 FROM runs r WHERE r.action_id = a.id) ORDER BY name LIMIT ?', [limit]).map((r) => ({ id: r.id as string, name: r.name as string }));
  }

  /**
   * One page of the runs a time window shows, for the Gantt view: the first page has the runs
   * still going, then those that ended in the window, newest end first (the runs_ended index
   * walks back from `before`, the last run of the previous page). Only the columns a bar needs.
   */
  ganttPage(from: number, to: number, before: { endedAt: number; runId: string } | undefined, limit: number): GanttRow[] {
    const cols = 'run_id, action_id, name, status, attempt, started_at, ended_at, exit_code, queued_at';
    const running = before ? [] : this.all(`SELECT ${cols} FROM runs WHERE status = 'running' AND started_at <= ?`, [to]);
    const ended = this.all(
      `SELECT ${cols} FROM runs WHERE ended_at IS NOT NULL AND ended_at >= ? AND ended_at <= ? AND NOT (ended_at = ? AND run_id >= ?) AND started_at <= ?
       ORDER BY ended_at DESC, run_id DESC LIMIT ?`,
      [from, before?.endedAt ?? Number.MAX_SAFE_INTEGER, before?.endedAt ?? Number.MAX_SAFE_INTEGER, before?.runId ?? '', to, limit],
    );
    return [...running, ...ended].map((r) => ({
      runId: r.run_id as string,
      actionId: r.action_id as string,
      name: r.name as string,
      status: r.status as RunStatus,
      attempt: r.attempt as number,
      startedAt: r.started_at as number,
      endedAt: r.ended_at as number | null,
      exitCode: r.exit_code as number | null,
      queuedAt: (r.queued_at as number | null) ?? null,
    }));
  }

  /** Runs of a flow, oldest first. */
  runSummariesOfFlow(flowId: string): RunSummary[] {
    return this.all(`${RUN_SUMMARY_SELECT} WHERE r.flow_id = ? ORDER BY r.started_at`, [flowId]).map(toRunSummary);
  }

  /** Ended flows to prune: ended before `before`, or beyond the newest `keep` ended ones. */
  prunableFlows(before: number, keep: number, limit: number): string[] {
    if (this.rowsAtMost('flows') <= keep) {
      return this.all('SELECT flow_id FROM flows WHERE ended_at IS NOT NULL AND ended_at < ? LIMIT ?', [before, limit]).map((r) => r.flow_id as string);
    }
    return this.all(
      `SELECT flow_id FROM flows WHERE ended_at IS NOT NULL AND (ended_at < ? OR flow_id IN
         (SELECT flow_id FROM flows WHERE ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT -1 OFFSET ?)) LIMIT ?`,
      [before, keep, limit],
    ).map((r) => r.flow_id as string);
  }

  endedFlowIds(limit: number): string[] {
    return this.all("SELECT flow_id FROM flows WHERE status != 'running' LIMIT ?", [limit]).map((r) => r.flow_id as string);
  }

  /** Every flow with its steps, for the verifier. */
  allFlows(): Flow[] {
    const steps = new Map<string, FlowStep[]>();
    for (const r of this.all(`SELECT ${STEP_COLUMNS}, flow_id FROM flow_steps ORDER BY flow_id, position`)) {
      const list = steps.get(r.flow_id as string) ?? [];
      list.push(toStep(r, []));
      steps.set(r.flow_id as string, list);
    }
    return this.all(`SELECT ${FLOW_COLUMNS} FROM flows`).map((r) => ({ ...toFlow(r), steps: steps.get(r.flow_id as string) ?? [] }));
  }

  // ---- requests from other processes ----

  /** The reply a request got when it was applied, or undefined if it never was. */
  requestReply(id: string): { ok: true; result: unknown } | { ok: false; error: string; field?: string } | undefined {
    const r = this.one('SELECT reply FROM requests WHERE id = ?', [id]);
    if (!r) return undefined;
    return r.reply === null ? { ok: true, result: null } : JSON.parse(r.reply as string);
  }
}
