// The JSON shapes of actions, runs and events that scripts see: the CLI's --json, the local
// API and the change feed all answer with these, so a field means the same everywhere.
import type { Action, Flow, LifecycleEvent, Notification, Policy, RunSummary } from '../model';
import type { RunRow } from '../store/store';
import { causeText } from '../triggers/eventText';
import { redactTarget } from '../notify/notifySpec';

export const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** A policy as shown: a notification's URL keeps its secret path to itself. */
export function publicPolicy(p: Policy): Record<string, unknown> {
  return p.notify && p.notify !== 'off' ? { ...p, notify: { ...p.notify, url: redactTarget(p.notify.url) } } : { ...p };
}

export function actionJson(a: Action): Record<string, unknown> {
  return {
    id: a.id,
    name: a.name,
    status: a.status,
    dueAt: iso(a.dueAt),
    trigger: a.trigger,
    run: a.run,
    policy: publicPolicy(a.policy),
    attempt: a.attempt,
    running: a.running,
    pending: a.pending,
    idempotencyKey: a.idempotencyKey,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
    lastRunId: a.lastRunId,
    ...(a.reason ? { reason: a.reason } : {}),
    source: a.source,
    ...(a.needsApproval ? { needsApproval: true } : {}),
  };
}

/** A run with what a list leaves out: what started it, in words, when it was due, and its output's tail. */
export function runJson(r: RunRow): Record<string, unknown> {
  const event = causeText(r.cause, r.data);
  return { ...runSummaryJson(r), ...(event !== r.cause ? { event } : {}), scheduledFor: iso(r.scheduledFor), outputTail: r.outputTail };
}

export function eventJson(e: LifecycleEvent): Record<string, unknown> {
  return { seq: e.seq, ts: iso(e.ts), type: e.type, actionId: e.actionId, runId: e.runId, data: e.data };
}

/** A run in a list: no output, no trigger data. */
export function runSummaryJson(r: RunSummary | RunRow): Record<string, unknown> {
  return {
    runId: r.runId,
    actionId: r.actionId,
    name: r.name,
    status: r.status,
    exitCode: r.exitCode,
    startedAt: iso(r.startedAt),
    endedAt: iso(r.endedAt),
    durationMs: r.endedAt !== null ? r.endedAt - r.startedAt : null,
    attempt: r.attempt,
    runner: r.runner,
    cause: r.cause,
    ...(r.flowId ? { flowId: r.flowId } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

/** A flow run; with its steps when they were read, each naming its upstreams by name. */
export function flowJson(f: Flow): Record<string, unknown> {
  const names = new Map((f.steps ?? []).map((s) => [s.actionId, s.name] as const));
  return {
    flowId: f.flowId,
    name: f.name,
    rootActionId: f.rootActionId,
    status: f.status,
    startedAt: iso(f.startedAt),
    endedAt: iso(f.endedAt),
    durationMs: f.endedAt !== null ? f.endedAt - f.startedAt : null,
    attempt: f.attempt,
    commit: f.commit,
    ...(f.reason ? { reason: f.reason } : {}),
    ...(f.steps
      ? {
          steps: f.steps.map((s) => ({
            actionId: s.actionId,
            name: s.name,
            status: s.status,
            if: s.cond,
            after: s.upstreams.map((u) => names.get(u) ?? u),
            runId: s.runId,
            attempt: s.attempt,
            startedAt: iso(s.startedAt),
            endedAt: iso(s.endedAt),
            ...(s.reason ? { reason: s.reason } : {}),
          })),
        }
      : {}),
  };
}

export function notificationJson(n: Notification): Record<string, unknown> {
  return {
    id: n.id,
    runId: n.runId,
    actionId: n.actionId,
    target: redactTarget(n.target),
    format: n.format,
    status: n.status,
    attempts: n.attempts,
    nextAt: n.status === 'pending' ? iso(n.nextAt) : null,
    createdAt: iso(n.createdAt),
    endedAt: iso(n.endedAt),
    lastError: n.lastError,
  };
}
