// Every change of an action's or a run's state, as functions over the store inside an open
// transaction. Each writes the new row guarded by the status it leaves and records the
// lifecycle event after the fact. The caller commits (one fsync) and then dispatches.
import { randomUUID as uuidv4 } from 'crypto'; // Node's own: the uuid package took 15 ms to load
import { dueKey } from './dueKey';
import { NotFoundError, ValidationError } from './errors';
import { FINISHED_ACTION_STATES, isDevTriggered, isEventTriggered, isRecurring, upstreamsOf, type ActionStatus, type EventType, type Trigger } from './model';
import { Flows } from './flows/flowSteps';
import type { RunOutcome } from './runner';
import type { LeftRun } from './runStatus';
import { nextOccurrence, planRecurring } from './schedule';
import type { ActionRow, RunRow, Store } from './store/store';
import type { ValidatedAction } from './validate';
import { CHANGED_LIST, mergeChanged, type DevBatch } from './triggers/devBatch';
import { lastLines, messageBody, runLink, type RunSummaryMessage } from './notify/message';
import { redactTarget, shouldNotify, type NotifySpec } from './notify/notifySpec';

export interface Retention {
  /** Finished runs, events and finished actions older than this are pruned. */
  maxAgeMs: number;
  /** At most this many finished runs are kept. */
  maxRuns: number;
  /** At most this many events are kept. */
  maxEvents: number;
}

/** The environment a webhook-triggered run sees its delivery through. */
export const WEBHOOK_ENV = {
  deliveryId: 'SDLC_WEBHOOK_DELIVERY_ID',
  hook: 'SDLC_WEBHOOK_HOOK',
  bodyFile: 'SDLC_WEBHOOK_BODY_FILE',
} as const;

export interface NewDelivery {
  id: string;
  hook: string;
  externalId: string | null;
  source: string;
  headers: Record<string, string>;
  size: number;
  sha256: string;
  replayOf: string | null;
}

/** The outcome of a run known only by its exit code (it ended while nobody was watching it). */
export function exitOutcome(exitCode: number, when: string, output?: string): RunOutcome {
  const outputTail = output ?? `(finished ${when}; its output was not kept)`;
  return exitCode === 0 ? { status: 'succeeded', exitCode: 0, outputTail } : { status: 'failed', exitCode, reason: `exit code ${exitCode} (finished ${when})`, outputTail };
}

export const DEFAULT_RETENTION: Retention = { maxAgeMs: 30 * 86_400_000, maxRuns: 10_000, maxEvents: 100_000 };

/** A run marked running in this tick, to be handed to its runner after the commit. */
export interface Claim {
  run: RunRow;
  action: ActionRow;
}

const isFinished = (s: ActionStatus) => FINISHED_ACTION_STATES.includes(s);

/** The event an action's change is recorded with. */
interface EventSpec {
  type: EventType;
  runId?: string;
  data?: Record<string, unknown>;
}

/** What a lifecycle event says about its action's row after the change (folded by verify). */
export interface ActionState {
  status: ActionStatus;
  nextAt: number | null;
  dueAt: number | null;
  pending: number;
  running: number;
  attempt: number;
  held: boolean;
  /** Waiting for approval of its command (file actions; absent in events from before schema 4). */
  gated?: boolean;
}

export function actionState(a: ActionRow): ActionState {
  return { status: a.status, nextAt: a.nextAt, dueAt: a.dueAt, pending: a.pending, running: a.running, attempt: a.attempt, held: a.held, gated: a.gate !== null };
}

/** The trigger's values kept in indexed columns: who listens on a hook (upstreams have a table of their own). */
function indexed(t: Trigger): { upstream: string | null; hook: string | null } {
  return { upstream: upstreamsOf(t)[0] ?? null, hook: t.kind === 'webhook' ? t.hook : null };
}

/** Where an action stands for the triggers that watch for it: active, held, or over. */
function watchClass(a: ActionRow): string {
  return isFinished(a.status) ? 'finished' : a.held || a.gate !== null ? 'held' : 'active';
}

/** What a development event was, for the log and the UI: a few words, never the whole file list. */
function eventSummary(data: Record<string, string>): Record<string, unknown> {
  if (data.SDLC_EVENT === 'change') {
    const files = (data[CHANGED_LIST] ?? '').split('\n').filter(Boolean);
    return { files: files.slice(0, 5), changed: Number(data.SDLC_CHANGED_COUNT ?? files.length) };
  }
  if (data.SDLC_EVENT === 'git') return { branch: data.SDLC_GIT_BRANCH || null, commit: data.SDLC_GIT_COMMIT || null, previous: data.SDLC_GIT_PREVIOUS || null };
  if (data.SDLC_EVENT === 'task') return { task: data.SDLC_TASK_LABEL, exitCode: data.SDLC_TASK_EXIT_CODE === '' ? null : Number(data.SDLC_TASK_EXIT_CODE) };
  return {};
}

/** What notifications need from the folder: where it is (for the run's link) and its default. */
export interface NotifyContext {
  folder: string;
  /** Used by the actions that say nothing about notify. */
  defaultSpec?: NotifySpec;
}

export class Transitions {
  /** Counts notifications written to the outbox: the sender looks at it when this moves. */
  notificationsQueued = 0;
  notifyContext: NotifyContext = { folder: '' };
  /**
   * Counts changes to the actions with development-event triggers (created, redefined, held,
   * released, ended, removed): their watchers are set up again only then, never for the others.
   */
  definitionsVersion = 0;
  /** Flow runs: the steps of what `after` chains together. */
  readonly flows: Flows;
  /** The priorities in use, highest first (the claim takes each in turn); read once, then kept up to date. */
  private levels: number[] | undefined;

  constructor(
    private readonly store: Store,
    /** This engine instance: runs record who started them. */
    private readonly owner: string,
    /** A recurring occurrence later than this is "missed" (catch-up policy 'skip'). */
    private readonly graceMs: () => number,
  ) {
    this.flows = new Flows(store, {
      enqueueStep: (action, cause, data, flowId, now, detail) => void this.enqueue(action, cause, data, now, detail, flowId),
      cancelRun: (runId, reason, now) => this.finish(runId, { status: 'cancelled', exitCode: null, reason }, now),
      unqueue: (action, triggerId, reason, now) => this.unqueue(action, triggerId, reason, now),
      dropRetry: (action, reason, now) => this.dropRetry(action, reason, now),
    });
  }

  // ---- the one place an action's row is written ----

  /** An `after` action has nothing more to wait for once all its upstreams are finished or gone. */
  private exhausted(a: ActionRow): boolean {
    if (a.trigger.kind !== 'after') return false;
    return upstreamsOf(a.trigger).every((id) => {
      const up = this.store.getAction(id);
      return !up || isFinished(up.status);
    });
  }

  /** Writes what the columns of a definition hold beyond its row: its upstreams and priority. */
  private indexDefinition(id: string, trigger: Trigger, priority: number | undefined, before?: ActionRow, definedAt?: number): void {
    const ups = upstreamsOf(trigger);
    if (!before || JSON.stringify(upstreamsOf(before.trigger)) !== JSON.stringify(ups)) {
      if (before) this.store.write('deleteUpstreams', [id]);
      for (const up of ups) this.store.write('insertUpstream', [id, up]);
    }
    const p = priority ?? 0;
    if (p !== (before?.policy.priority ?? 0)) this.store.write('setPriority', [p, id]);
    if (definedAt !== undefined) this.store.write('setDefinedAt', [definedAt, id]);
    if (this.levels && !this.levels.includes(p)) this.levels = [...this.levels, p].sort((x, y) => y - x);
    this.flows.invalidate();
  }

  /**
   * Derives the status from what the action still has to do, computes its due key, and
   * writes it guarded by the status it had. `finalStatus` is where it ends if nothing is left.
   */
  private save(before: ActionRow, a: ActionRow, now: number, event: EventSpec, opts: { retrying?: boolean; finalStatus?: ActionStatus; end?: boolean } = {}): ActionRow {
    const hasWork = a.nextAt !== null || a.pending > 0;
    // `end`: the action ends now (cancelled by the user) even if its trigger could fire again.
    const canWait = !opts.end && isEventTriggered(a.trigger) && !this.exhausted(a);
    let status: ActionStatus;
    if (a.running > 0) status = 'running';
    else if (!hasWork && !canWait) status = opts.finalStatus ?? (isFinished(a.status) ? a.status : 'succeeded');
    else if (a.held || a.gate !== null) status = 'paused';
    else if (hasWork) status = opts.retrying ? 'retrying' : 'scheduled';
    else status = 'waiting';
    if (isFinished(status)) {
      a.nextAt = null;
      a.occurrenceAt = null;
    }
    // The due key holds only what can start now: not held, below its concurrency limit.
    let dueAt: number | null = null;
    if (!isFinished(status) && !a.held && a.gate === null && a.running < a.policy.concurrency) {
      const candidates = [a.nextAt, a.pending > 0 ? a.pendingSince : null].filter((t): t is number => t !== null);
      dueAt = candidates.length ? Math.max(0, Math.min(...candidates)) : null;
    }
    const next: ActionRow = { ...a, status, dueAt, updatedAt: now };
    const changed = this.store.write('updateAction', [
      status,
      next.nextAt,
      next.occurrenceAt,
      next.pending,
      next.pending > 0 ? next.pendingSince : null,
      dueAt,
      dueAt === null ? null : dueKey(dueAt, a.id),
      next.attempt,
      next.running,
      next.held ? 1 : 0,
      now,
      next.lastRunId,
      next.reason,
      a.id,
      before.status,
    ]);
    if (changed !== 1) throw new Error(`action ${a.id} changed underneath (expected status ${before.status})`);
    if ((isDevTriggered(before.trigger) || isDevTriggered(next.trigger)) && (watchClass(before) !== watchClass(next) || before.trigger !== next.trigger)) this.definitionsVersion++;
    // Every change of an action's row is recorded, with the state it left the action in: the
    // lifecycle log alone accounts for the table (sdlc-orchestrator verify).
    this.record(now, event.type, next, event.runId ?? null, event.data ?? {});
    if (next.nextAt !== null && next.nextAt !== before.nextAt && !opts.retrying) {
      this.record(now, 'task.scheduled', next, null, { dueAt: new Date(next.nextAt).toISOString() });
    }
    return next;
  }

  /** An event about an action, carrying the action's state after it. */
  private record(now: number, type: EventType, a: ActionRow, runId: string | null, data: Record<string, unknown>): void {
    this.store.addEvent(now, type, a.id, runId, { ...data, state: actionState(a) });
  }

  private mustGet(id: string): ActionRow {
    const a = this.store.findAction(id);
    if (!a) throw new NotFoundError(id);
    return a;
  }

  // ---- creating ----

  accept(actions: ValidatedAction[], now: number): ActionRow[] {
    return actions.map((v) => {
      const status: ActionStatus = v.dueAt !== null ? 'scheduled' : 'waiting';
      const { upstream, hook } = indexed(v.trigger);
      this.store.write('insertAction', [
        v.id, v.name, status, JSON.stringify(v.trigger), JSON.stringify(v.run), JSON.stringify(v.policy),
        v.dueAt, isRecurring(v.trigger) ? v.dueAt : null, 0, null,
        v.dueAt, v.dueAt === null ? null : dueKey(v.dueAt, v.id), 0, 0, 0, v.idempotencyKey, upstream, hook, now, now, null, null,
      ]);
      this.indexDefinition(v.id, v.trigger, v.policy.priority, undefined, now);
      const row = this.store.getAction(v.id)!;
      if (isDevTriggered(v.trigger)) this.definitionsVersion++;
      this.record(now, 'task.accepted', row, null, {
        name: v.name,
        trigger: v.trigger,
        runner: v.run.runner,
        ...(v.dueAt !== null ? { dueAt: new Date(v.dueAt).toISOString() } : {}),
      });
      return row;
    });
  }

  /**
   * Creates actions from the actions file. One that waits for approval (`gate`) is created
   * paused: it keeps its schedule but is never claimed until approve() releases it.
   */
  acceptFromFile(v: ValidatedAction, defHash: string, gate: string | null, now: number): ActionRow {
    const status: ActionStatus = gate !== null ? 'paused' : v.dueAt !== null ? 'scheduled' : 'waiting';
    const { upstream, hook } = indexed(v.trigger);
    const dueAt = gate !== null ? null : v.dueAt;
    this.store.write('insertFileAction', [
      v.id, v.name, status, JSON.stringify(v.trigger), JSON.stringify(v.run), JSON.stringify(v.policy),
      v.dueAt, isRecurring(v.trigger) ? v.dueAt : null, dueAt, dueAt === null ? null : dueKey(dueAt, v.id),
      upstream, hook, now, now, defHash, gate,
    ]);
    this.indexDefinition(v.id, v.trigger, v.policy.priority, undefined, now);
    const row = this.store.getAction(v.id)!;
    if (isDevTriggered(v.trigger)) this.definitionsVersion++;
    this.record(now, 'task.accepted', row, null, {
      name: v.name,
      trigger: v.trigger,
      runner: v.run.runner,
      from: 'file',
      ...(v.dueAt !== null ? { dueAt: new Date(v.dueAt).toISOString() } : {}),
    });
    return row;
  }

  /**
   * Gives an unfinished action a new definition. A run in flight keeps what it started with;
   * the next one uses the new definition. A changed trigger plans the next start from now.
   */
  redefine(before: ActionRow, v: ValidatedAction, defHash: string, gate: string | null, now: number, changed: string[]): ActionRow {
    const { upstream, hook } = indexed(v.trigger);
    const n = this.store.write('updateDefinition', [
      JSON.stringify(v.trigger), JSON.stringify(v.run), JSON.stringify(v.policy), upstream, hook, 'file', defHash, gate, before.id, before.status,
    ]);
    if (n !== 1) throw new Error(`action ${before.id} changed underneath (expected status ${before.status})`);
    // A new command or policy starts the record the flaky mark reads afresh.
    this.indexDefinition(before.id, v.trigger, v.policy.priority, before, changed.length ? now : undefined);
    const a: ActionRow = { ...before, trigger: v.trigger, run: v.run, policy: v.policy, source: 'file', defHash, gate, needsApproval: gate !== null };
    const triggerChanged = JSON.stringify(before.trigger) !== JSON.stringify(v.trigger);
    if (triggerChanged) {
      a.nextAt = v.dueAt;
      a.occurrenceAt = isRecurring(v.trigger) ? v.dueAt : null;
      if (before.status === 'retrying') a.attempt = 0;
    }
    return this.save(before, a, now, { type: 'task.updated', data: { from: 'file', changed } }, { retrying: before.status === 'retrying' && !triggerChanged });
  }

  /** Releases a file action whose command was approved. A recurring schedule continues from now. */
  approve(before: ActionRow, now: number): ActionRow {
    if (before.gate === null) return before;
    const a: ActionRow = { ...before, gate: null, needsApproval: false };
    if (isRecurring(before.trigger) && before.nextAt !== null && before.nextAt < now && before.attempt === 0) {
      a.nextAt = nextOccurrence(before.trigger, now);
      a.occurrenceAt = a.nextAt;
    }
    const { upstream, hook } = indexed(before.trigger);
    this.store.write('updateDefinition', [
      JSON.stringify(a.trigger), JSON.stringify(a.run), JSON.stringify(a.policy), upstream, hook, before.source, before.defHash, null, before.id, before.status,
    ]);
    return this.save(before, a, now, { type: 'task.approved', data: { key: before.gate } }, { retrying: before.status === 'retrying' });
  }

  // ---- claiming ----

  /**
   * Marks everything due at `now` running, oldest first, up to `slots` runs. Recurring
   * occurrences that were missed follow the action's catch-up policy.
   */
  claimDue(now: number, slots: number): Claim[] {
    const claims: Claim[] = [];
    if (slots <= 0) return claims;
    // Higher priority first; within one, oldest due first. A claimed action's queue moves to
    // the back (its pending runs are due from now), so one action's flood cannot starve the rest.
    this.levels ??= [...new Set([0, ...this.store.priorities()])].sort((x, y) => y - x);
    for (const level of this.levels) {
      for (const a of this.store.dueActions(now, slots - claims.length, level)) {
        const claim = this.claimOne(a, now);
        if (claim) claims.push(claim);
        if (claims.length >= slots) return claims;
      }
    }
    return claims;
  }

  private claimOne(before: ActionRow, now: number): Claim | undefined {
    const a: ActionRow = { ...before };
    const timeRun = a.nextAt !== null && a.nextAt <= now;
    const retry = timeRun && before.status === 'retrying';
    let cause: string;
    let data: Record<string, string> = {};
    let scheduledFor: number | null = null;
    let flowId: string | null = null;
    let queuedAt = now;
    if (timeRun) {
      scheduledFor = a.occurrenceAt ?? a.nextAt;
      if (isRecurring(a.trigger) && !retry) {
        const plan = planRecurring(a.trigger, a.nextAt!, now, a.policy.catchUp, a.policy.catchUpLimit, this.graceMs());
        if (plan.kind === 'skip') {
          a.nextAt = a.occurrenceAt = plan.next;
          this.save(
            before,
            a,
            now,
            {
              type: 'task.skipped',
              data: {
                missed: plan.missed,
                reason: 'missed while nothing was running (catch-up: skip)',
                ...(plan.next !== null ? { next: new Date(plan.next).toISOString() } : {}),
              },
            },
            { finalStatus: 'succeeded' },
          );
          return undefined;
        }
        if (plan.missed > 0) {
          this.store.addEvent(now, 'task.skipped', a.id, null, {
            missed: plan.missed,
            reason: a.policy.catchUp === 'once' ? 'missed occurrences run once (catch-up: once)' : `more than ${a.policy.catchUpLimit} missed (catch-up: all)`,
          });
        }
        scheduledFor = plan.occurrence;
      }
      if (retry) {
        const previous = a.lastRunId ? this.store.getRun(a.lastRunId) : undefined;
        cause = 'retry';
        data = previous?.data ?? {};
        flowId = previous?.flowId ?? null; // a retry is the same step of the same flow
        a.attempt += 1;
      } else {
        cause = 'schedule';
        a.attempt = 1;
      }
      a.nextAt = null;
    } else {
      const trigger = this.store.nextTrigger(a.id);
      if (!trigger) {
        // A pending count without a queued trigger cannot happen; repair rather than loop.
        a.pending = 0;
        this.save(before, a, now, { type: 'task.skipped', data: { reason: 'a queued trigger was missing; the pending count was repaired' } });
        return undefined;
      }
      this.store.write('deleteTrigger', [trigger.id]);
      cause = trigger.cause;
      data = trigger.data;
      flowId = trigger.flowId;
      queuedAt = trigger.createdAt;
      a.pending -= 1;
      a.pendingSince = a.pending > 0 ? now : null;
      a.attempt = 1;
    }
    const runId = uuidv4();
    const deadline = a.policy.timeoutMs !== undefined ? now + a.policy.timeoutMs : null;
    if (timeRun) queuedAt = retry ? (before.nextAt ?? now) : (scheduledFor ?? now);
    this.store.write('insertQueuedRun', [runId, a.id, a.name, a.run.runner, a.attempt, scheduledFor, now, cause, JSON.stringify(data), this.owner, deadline, Math.min(queuedAt, now)]);
    // Retries carry the delivery too (their data is the first attempt's).
    if (data[WEBHOOK_ENV.deliveryId]) this.store.write('setRunDelivery', [data[WEBHOOK_ENV.deliveryId], runId]);
    // A step of a flow starts; a run of an action others follow opens a flow of its own.
    if (flowId) this.flows.stepStarted(flowId, a.id, runId, now);
    else if (this.flows.opensFlow(a.id)) flowId = this.flows.open(a, runId, now);
    if (flowId) this.store.write('setRunFlow', [flowId, runId]);
    a.running += 1;
    a.lastRunId = runId;
    a.reason = null;
    if (isRecurring(a.trigger) && timeRun) a.occurrenceAt = scheduledFor;
    const saved = this.save(before, a, now, {
      type: 'task.started',
      runId,
      data: {
        attempt: a.attempt,
        cause,
        runner: a.run.runner,
        ...(scheduledFor !== null ? { scheduledFor: new Date(scheduledFor).toISOString(), lateMs: now - scheduledFor } : {}),
        ...(flowId ? { flow: flowId } : {}),
      },
    });
    // The row just written, built here rather than read back: this is the hot path of every start.
    const run: RunRow = {
      runId,
      actionId: a.id,
      name: a.name,
      runner: a.run.runner,
      status: 'running',
      attempt: a.attempt,
      scheduledFor,
      startedAt: now,
      endedAt: null,
      exitCode: null,
      reason: null,
      outputTail: '',
      cause,
      data,
      owner: this.owner,
      deadline,
      flowId,
    };
    return { run, action: saved };
  }

  // ---- finishing ----

  /** Records a run's end and decides what its action does next. Ignores runs already settled. */
  finish(runId: string, outcome: RunOutcome, now: number): void {
    const run = this.store.getRun(runId);
    if (!run || run.status !== 'running') return;
    const reason = outcome.status === 'succeeded' ? null : (outcome.reason ?? (outcome.exitCode !== null ? `exit code ${outcome.exitCode}` : 'failed'));
    this.store.write('finishRun', [outcome.status, now, outcome.exitCode, reason, outcome.outputTail ?? '', runId]);
    const announce = () => this.announce(before!, run, outcome.status, outcome.exitCode, reason, outcome.outputTail ?? '', now);
    const type = outcome.status === 'succeeded' ? 'task.completed' : outcome.status === 'cancelled' ? 'task.cancelled' : 'task.failed';
    const ended = {
      type,
      runId,
      data: { exitCode: outcome.exitCode, durationMs: now - run.startedAt, attempt: run.attempt, ...(reason ? { reason } : {}) },
    } as const;
    const before = this.store.getAction(run.actionId);
    if (!before) {
      this.store.addEvent(now, ended.type, run.actionId, runId, ended.data); // its action was deleted meanwhile
      if (run.flowId) this.flows.runEnded(run, undefined, outcome.status, reason, now);
      return;
    }
    if (outcome.worktree) this.store.write('setRunWorktree', [outcome.worktree, runId]);
    const a: ActionRow = { ...before, running: Math.max(0, before.running - 1) };
    const timeRun = run.cause === 'schedule' || run.cause === 'retry';

    if (outcome.status === 'succeeded') {
      a.attempt = 0;
      this.scheduleNext(a, run, timeRun, now);
      const saved = this.save(before, a, now, ended, { finalStatus: 'succeeded' });
      announce();
      this.flows.runEnded(run, saved, 'succeeded', null, now);
      this.settleDependents(saved, now);
      return;
    }
    if (outcome.status === 'cancelled') {
      a.attempt = 0;
      this.scheduleNext(a, run, timeRun, now);
      const saved = this.save(before, a, now, ended, { finalStatus: 'cancelled' });
      announce();
      this.flows.runEnded(run, saved, 'cancelled', reason, now);
      this.settleDependents(saved, now);
      return;
    }
    // Failed: retry, or give up on this occurrence.
    if (outcome.interrupted && a.policy.onInterrupted === 'retry' && a.nextAt === null) {
      // An interruption is not the command's fault: the same attempt runs again.
      a.attempt = Math.max(0, a.attempt - 1);
      a.nextAt = now;
      if (!timeRun) a.occurrenceAt = null;
      const saved = this.save(before, a, now, ended, { retrying: true });
      this.record(now, 'task.retried', saved, runId, { reason: reason ?? 'interrupted', delayMs: 0 });
      return;
    }
    if (a.attempt < a.policy.maxAttempts && a.nextAt === null && !outcome.interrupted) {
      const delay = Math.min(a.policy.backoffMs * 2 ** (a.attempt - 1), a.policy.maxBackoffMs);
      a.nextAt = now + delay;
      if (!timeRun) a.occurrenceAt = null;
      const saved = this.save(before, a, now, ended, { retrying: true });
      this.record(now, 'task.retried', saved, runId, { attempt: a.attempt + 1, of: a.policy.maxAttempts, delayMs: delay, reason });
      return;
    }
    a.attempt = 0;
    a.reason = reason;
    this.scheduleNext(a, run, timeRun, now);
    const saved = this.save(before, a, now, ended, { finalStatus: 'failed' });
    announce(); // a failed attempt that will be retried is not announced: only the occurrence's last
    this.flows.runEnded(run, saved, 'failed', reason, now);
    this.settleDependents(saved, now);
  }

  /**
   * Writes the notification of a run's end to the outbox, in the transaction that records the
   * end: it is sent only once that commit is durable, and is never lost after it.
   */
  private announce(action: ActionRow, run: RunRow, status: 'succeeded' | 'failed' | 'cancelled', exitCode: number | null, reason: string | null, output: string, now: number): void {
    const spec = action.policy.notify === 'off' ? undefined : (action.policy.notify ?? this.notifyContext.defaultSpec);
    if (!spec || !shouldNotify(spec.on, status)) return;
    const id = uuidv4();
    const folder = this.notifyContext.folder;
    const message: RunSummaryMessage = {
      folder,
      action: { id: action.id, name: action.name },
      run: { id: run.runId, status, exitCode, attempt: run.attempt, durationMs: Math.max(0, now - run.startedAt), reason, cause: run.cause },
      output: lastLines(output),
      endedAt: new Date(now).toISOString(),
      link: runLink(folder, run.runId),
    };
    this.store.write('insertNotification', [id, run.runId, action.id, spec.url, spec.format, JSON.stringify(messageBody(message, spec.format)), now, now]);
    this.store.addEvent(now, 'notification.queued', action.id, run.runId, { notification: id, target: redactTarget(spec.url), format: spec.format, on: spec.on, status });
    this.notificationsQueued++;
  }

  /** After an occurrence is done (succeeded or given up), a recurring action gets its next one. */
  private scheduleNext(a: ActionRow, run: RunRow, timeRun: boolean, now: number): void {
    if (!timeRun || !isRecurring(a.trigger)) return;
    // From the occurrence it ran for; or from now if the clock went back while it ran.
    const next = nextOccurrence(a.trigger, Math.min(run.scheduledFor ?? run.startedAt, now));
    a.nextAt = next;
    a.occurrenceAt = next;
  }

  /**
   * When all the upstreams of a waiting action are finished for good, nothing can trigger it
   * again: it ends too (cancelled if this one did not succeed), and so on down the chain. (Its
   * runs within flows already under way were queued before this, in the same transaction.)
   */
  private settleDependents(upstream: ActionRow, now: number): void {
    if (!isFinished(upstream.status)) return;
    for (const d of this.store.dependentsOf(upstream.id)) {
      if (d.status !== 'waiting' && d.status !== 'paused') continue;
      if (d.running > 0 || d.pending > 0 || !this.exhausted(d)) continue;
      const why = upstream.status === 'succeeded' ? null : `upstream "${upstream.name}" ${upstream.status}`;
      const saved = this.save(
        d,
        { ...d, reason: why },
        now,
        why ? { type: 'task.cancelled', data: { reason: why } } : { type: 'task.settled', data: { reason: `upstream "${upstream.name}" is finished` } },
        { finalStatus: why ? 'cancelled' : 'succeeded' },
      );
      this.settleDependents(saved, now);
    }
  }

  /**
   * Applies one settled burst of development events to its action, by the trigger's overlap
   * policy. Returns the runs the caller must stop (overlap: restart).
   */
  devEvent(b: DevBatch, now: number): string[] {
    const before = this.store.getAction(b.actionId);
    if (!before || isFinished(before.status) || before.held || before.gate !== null) return []; // ended or held meanwhile: not its event
    const detail: Record<string, unknown> = { events: b.events, ...eventSummary(b.data) };
    const skip = (reason: string) => void this.save(before, { ...before }, now, { type: 'task.skipped', data: { cause: b.cause, reason, ...detail } });
    if (b.catchUp?.policy === 'skip') {
      skip(`${b.catchUp.missed} event(s) happened while no orchestrator was running (catch-up: skip)`);
      return [];
    }
    if (b.catchUp) Object.assign(detail, { catchUp: true, missed: b.catchUp.missed });
    // Catch-up "all": each missed event is a run of its own, never folded into another.
    if (b.catchUp?.policy === 'all') {
      this.enqueue(before, b.cause, b.data, now, detail);
      return [];
    }
    const busy = before.running > 0 || before.pending > 0;
    let current = before;
    const stop: string[] = [];
    switch (b.overlap) {
      case 'skip':
        if (busy) {
          skip('a run was in flight or queued (overlap: skip)');
          return [];
        }
        break;
      case 'restart':
        if (before.running > 0) {
          for (const r of this.store.runsOf(before.id, 1000)) {
            if (r.status !== 'running') continue;
            this.finish(r.runId, { status: 'cancelled', exitCode: null, reason: `restarted: a new ${b.cause} event arrived (overlap: restart)` }, now);
            stop.push(r.runId);
          }
          current = this.store.getAction(before.id)!;
        }
        if (current.pending > 0) return this.coalesce(current, b, detail, now), stop;
        break;
      case 'queue-one':
        if (before.pending > 0) return this.coalesce(before, b, detail, now), [];
        break;
      case 'parallel':
        break;
    }
    this.enqueue(current, b.cause, b.data, now, detail);
    return stop;
  }

  /** Folds a burst into the run already queued: one pending run, with the newest data (and all changed files). */
  private coalesce(before: ActionRow, b: DevBatch, detail: Record<string, unknown>, now: number): void {
    const last = this.store.lastTrigger(before.id);
    if (!last) return void this.enqueue(before, b.cause, b.data, now, detail);
    this.store.write('updateTrigger', [b.cause, JSON.stringify(mergeChanged(last.data, b.data)), last.id]);
    this.save(before, { ...before }, now, { type: 'task.triggered', data: { cause: b.cause, pending: before.pending, coalesced: true, ...detail } });
  }

  /** Queues one triggered run of an action (a webhook delivery, an upstream success, run now). */
  enqueue(before: ActionRow, cause: string, data: Record<string, string>, now: number, detail: Record<string, unknown> = {}, flowId: string | null = null): ActionRow {
    if (flowId) this.store.write('insertFlowTrigger', [before.id, cause, JSON.stringify(data), now, flowId]);
    else this.store.write('insertTrigger', [before.id, cause, JSON.stringify(data), now]);
    const a: ActionRow = { ...before, pending: before.pending + 1, pendingSince: before.pending > 0 ? before.pendingSince : now, reason: null };
    if (isFinished(before.status)) a.attempt = 0;
    return this.save(before, a, now, { type: 'task.triggered', data: { cause, pending: a.pending, ...detail } });
  }

  /** Takes one queued run of an action back (a cancelled flow's step). */
  private unqueue(before: ActionRow, triggerId: number, reason: string, now: number): void {
    if (this.store.write('deleteTrigger', [triggerId]) !== 1) return;
    const pending = Math.max(0, before.pending - 1);
    this.save(before, { ...before, pending, pendingSince: pending > 0 ? before.pendingSince : null }, now, { type: 'task.skipped', data: { reason, queuedRun: true } });
  }

  /** A failed run's retry is given up (its flow was cancelled): the action goes on as after a final failure. */
  private dropRetry(before: ActionRow, reason: string, now: number): void {
    const run = before.lastRunId ? this.store.getRun(before.lastRunId) : undefined;
    const a: ActionRow = { ...before, attempt: 0, nextAt: null, occurrenceAt: null, reason };
    if (run) this.scheduleNext(a, run, run.cause === 'schedule' || run.cause === 'retry', now);
    this.save(before, a, now, { type: 'task.cancelled', data: { reason, retry: true } }, { finalStatus: 'cancelled' });
  }

  // ---- webhook deliveries ----

  /** Stores a delivery whose body is already on disk. The next tick processes it. */
  receiveDelivery(d: NewDelivery, now: number): void {
    this.store.write('insertDelivery', [d.id, d.hook, d.externalId, now, d.source, JSON.stringify(d.headers), d.size, d.sha256, d.replayOf]);
    this.store.addEvent(now, 'webhook.received', null, null, {
      delivery: d.id,
      hook: d.hook,
      size: d.size,
      source: d.source,
      ...(d.externalId ? { externalId: d.externalId } : {}),
      ...(d.replayOf ? { replayOf: d.replayOf } : {}),
    });
  }

  /**
   * Turns stored deliveries into queued runs: one for each action on the delivery's hook,
   * seeing the delivery through its environment. Returns whether more are left.
   */
  processDeliveries(now: number, bodyFile: (deliveryId: string) => string, batch = 200): boolean {
    const list = this.store.receivedDeliveries(batch);
    for (const d of list) {
      const queued: { id: string; name: string }[] = [];
      for (const a of this.store.actionsOnHook(d.hook)) {
        const env = { [WEBHOOK_ENV.deliveryId]: d.id, [WEBHOOK_ENV.hook]: d.hook, [WEBHOOK_ENV.bodyFile]: bodyFile(d.id) };
        this.enqueue(a, `webhook:${d.id}`, env, now, { delivery: d.id, hook: d.hook });
        queued.push({ id: a.id, name: a.name });
      }
      this.store.write('processDelivery', [now, JSON.stringify(queued), d.id]);
      this.store.addEvent(now, 'webhook.processed', null, null, { delivery: d.id, hook: d.hook, actions: queued.map((q) => q.name) });
    }
    return list.length === batch;
  }

  // ---- user requests ----

  runNow(idOrName: string, now: number): ActionRow {
    const a = this.mustGet(idOrName);
    if (a.gate !== null) throw new ValidationError('id', `action "${a.name}" comes from .sdlc/actions.yaml and its command is not approved on this machine yet; approve it first`);
    if (a.held) throw new ValidationError('id', `action "${a.name}" is paused; resume it first`);
    return this.enqueue(a, 'manual', {}, now);
  }

  /** Cancels an action and its runs in flight; returns the run ids the caller must stop. */
  cancel(idOrName: string, now: number, reason = 'cancelled by user', detail: Record<string, unknown> = {}): string[] {
    const before = this.mustGet(idOrName);
    if (isFinished(before.status)) throw new ValidationError('id', `action "${before.name}" is already ${before.status}`);
    const runIds = this.store.runsOf(before.id, 1000).filter((r) => r.status === 'running').map((r) => r.runId);
    for (const runId of runIds) {
      const run = this.store.getRun(runId)!;
      this.store.write('finishRun', ['cancelled', now, null, reason, '', runId]);
      this.store.addEvent(now, 'task.cancelled', before.id, runId, { reason, exitCode: null });
      this.announce(before, run, 'cancelled', null, reason, '', now);
      this.flows.runEnded(run, before, 'cancelled', reason, now);
    }
    // A step waiting for a retry, and the steps queued in flows, end with the action.
    if (before.status === 'retrying' && before.lastRunId) {
      const last = this.store.getRun(before.lastRunId);
      if (last?.flowId) this.flows.runEnded(last, before, 'cancelled', reason, now);
    }
    const queued = this.store.flowTriggersOf(before.id);
    this.store.write('deleteTriggersOf', [before.id]);
    for (const q of queued) this.flows.unqueued(q.flowId, before.id, reason, now);
    const a: ActionRow = { ...before, running: 0, pending: 0, pendingSince: null, nextAt: null, occurrenceAt: null, held: false, reason };
    const saved = this.save(before, a, now, { type: 'task.cancelled', data: { reason, ...detail } }, { finalStatus: 'cancelled', end: true });
    this.settleDependents(saved, now);
    return runIds;
  }

  /** Removes an action (cancelling what runs); its finished runs stay in history. */
  remove(idOrName: string, now: number): string[] {
    const a = this.mustGet(idOrName);
    const runIds = isFinished(a.status) ? [] : this.cancel(a.id, now, 'deleted by user');
    const current = this.store.getAction(a.id)!;
    this.store.write('deleteTriggersOf', [a.id]);
    this.store.write('deleteAction', [a.id, current.status]);
    this.store.write('deleteUpstreams', [a.id]);
    this.flows.invalidate();
    if (isDevTriggered(a.trigger)) this.definitionsVersion++;
    this.store.addEvent(now, 'task.deleted', a.id, null, { name: a.name });
    // Its waiting dependents were settled when it finished (or by the cancel above); those
    // with runs queued or in flight end after them, their upstream being gone.
    return runIds;
  }

  setHeld(idOrName: string, held: boolean, now: number): ActionRow {
    const before = this.mustGet(idOrName);
    if (isFinished(before.status)) throw new ValidationError('id', `action "${before.name}" is already ${before.status}`);
    if (before.held === held) return before;
    return this.save(before, { ...before, held }, now, { type: held ? 'task.paused' : 'task.resumed' }, { retrying: before.status === 'retrying' });
  }

  // ---- recovery and retention ----

  /**
   * The clock went back by `stepMs`. Recurring schedules are planned again from the new now (an
   * `every 1s` action would otherwise wait out the whole step) and retries keep the delay they
   * had left; one-shot times stay as written. Returns how many actions changed.
   */
  clockSteppedBack(now: number, stepMs: number): number {
    let n = 0;
    for (const before of this.store.actionsWithNextAfter(now)) {
      const a: ActionRow = { ...before };
      const retrying = before.status === 'retrying' || (before.held && before.attempt > 0);
      if (retrying) a.nextAt = Math.max(now, before.nextAt! - stepMs);
      else if (isRecurring(a.trigger)) {
        const next = nextOccurrence(a.trigger, now);
        if (next === null || next >= before.nextAt!) continue;
        a.nextAt = a.occurrenceAt = next;
      } else continue;
      this.save(before, a, now, { type: 'task.scheduled', data: { reason: `the clock went back ${stepMs} ms` } }, { retrying: before.status === 'retrying' });
      n++;
    }
    return n;
  }

  /**
   * Runs left `running` by an engine that is gone (started before `startedBefore`, not in
   * flight here) are resolved by what became of them: one that finished meanwhile is recorded
   * with its real exit code; one still going is adopted (returned, left running, for the caller
   * to watch); only one truly cut off is failed with "recovered from restart", or retried, per policy.
   */
  recoverInterrupted(now: number, startedBefore: number, live: ReadonlySet<string>, inspect: (run: RunRow) => LeftRun): { recovered: number; adopted: { run: RunRow; pid: number }[] } {
    let recovered = 0;
    const adopted: { run: RunRow; pid: number }[] = [];
    for (const run of this.store.runningRuns()) {
      if (live.has(run.runId) || run.startedAt > startedBefore) continue;
      const left = inspect(run);
      const base = { startedAt: new Date(run.startedAt).toISOString(), owner: run.owner };
      if (left.kind === 'alive') {
        this.store.addEvent(now, 'task.recovered', run.actionId, run.runId, { ...base, adopted: true, pid: left.pid });
        adopted.push({ run, pid: left.pid });
        continue;
      }
      recovered++;
      if (left.kind === 'exited') {
        this.store.addEvent(now, 'task.recovered', run.actionId, run.runId, { ...base, exitCode: left.exitCode, finishedWhileDown: true });
        this.finish(run.runId, exitOutcome(left.exitCode, 'while the orchestrator was not running', left.output), now);
        continue;
      }
      this.store.addEvent(now, 'task.recovered', run.actionId, run.runId, base);
      this.finish(run.runId, { status: 'failed', exitCode: null, reason: 'recovered from restart', interrupted: true }, now);
    }
    return { recovered, adopted };
  }

  /** Removes a bounded batch of old history, so one call never takes long. */
  prune(now: number, r: Retention, batch = 500): number {
    const cutoff = now - r.maxAgeMs;
    let removed = this.store.write('pruneRunsBefore', [cutoff, batch]);
    if (this.store.rowsAtMost('runs') > r.maxRuns) removed += this.store.write('pruneRunsBeyond', [batch, r.maxRuns]);
    const actionsRemoved = this.store.write('pruneFinishedActions', [cutoff, batch]);
    removed += actionsRemoved;
    if (actionsRemoved > 0) {
      this.store.write('pruneUpstreams', []);
      this.flows.invalidate();
    }
    removed += this.flows.prune(cutoff, r.maxRuns, batch);
    // The oldest events, up to a batch, while they are past the age or beyond the count.
    const countLimit = this.store.lastSeq() - r.maxEvents;
    let through = 0;
    for (const e of this.store.eventsHead(batch)) {
      if (e.ts >= cutoff && e.seq > countLimit) break;
      through = e.seq;
    }
    let events = 0;
    if (through > 0) {
      // An unfinished action none of whose events would be left gets a checkpoint first: the
      // log still accounts for everything the tables hold.
      for (const a of this.store.activeActionsWithoutEventsAfter(through)) {
        this.save(a, { ...a }, now, { type: 'task.checkpoint', data: { name: a.name, trigger: a.trigger, runner: a.run.runner } });
      }
      events = this.store.write('pruneEventsThrough', [through]);
    }
    this.store.write('pruneRequests', [now - 86_400_000, batch]);
    removed += this.store.write('pruneNotifications', [cutoff, batch]);
    if (removed + events > 0) this.store.addEvent(now, 'history.pruned', null, null, { runsAndActions: removed, events, throughSeq: through, before: new Date(cutoff).toISOString() });
    return removed + events;
  }

  /** Removes processed deliveries past retention; returns their ids (their body files go after the commit). */
  pruneDeliveries(now: number, r: Retention, batch = 500): string[] {
    const ids = this.store.prunableDeliveries(now - r.maxAgeMs, r.maxRuns, batch);
    for (const id of ids) this.store.write('deleteDelivery', [id]);
    return ids;
  }

  /** Returns the ids of the deliveries removed with the history (their body files go after the commit). */
  clearHistory(now: number): string[] {
    const runs = this.store.write('clearRuns', []);
    this.store.write('clearNotifications', []);
    const actions = this.store.write('clearFinishedActions', []);
    this.store.write('pruneUpstreams', []);
    this.flows.invalidate();
    const flows = this.flows.clear();
    const deliveries = this.store.processedDeliveryIds(1_000_000);
    for (const id of deliveries) this.store.write('deleteDelivery', [id]);
    this.store.addEvent(now, 'history.cleared', null, null, { runs, actions, deliveries: deliveries.length, flows });
    return deliveries;
  }
}
