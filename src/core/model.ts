// The action model shared by the engine, the CLI and the extension: what an action is,
// the states it moves through, and the lifecycle events it leaves behind.
import type { NotifyFormat, NotifySpec } from './notify/notifySpec';

/** When an action runs. Exactly one kind per action. */
export type Trigger =
  | { kind: 'at'; at: string } // ISO 8601 instant
  | { kind: 'delay'; delay: string } // "500ms", "30s", "10m", "2h", "1d" from creation
  | { kind: 'cron'; cron: string; tz?: string } // 5 or 6 fields, optional IANA zone
  | { kind: 'every'; every: string } // fixed interval, first run one interval after creation
  | { kind: 'webhook'; hook: string } // each delivery to the named hook queues a run
  // A step of a flow: runs once per flow run when all its upstreams in the flow have ended and
  // its condition holds (absent: success, all of them succeeded). Stored before schema 6 as one id.
  | { kind: 'after'; after: string[]; if?: Exclude<FlowCondition, 'success'> }
  | { kind: 'manual' } // only "run now"
  // Development events (src/core/triggers): each debounced burst queues one run.
  | ({ kind: 'change'; paths: string[]; ignore?: string[] } & Coalescing) // files matching a glob created, changed or deleted
  | ({ kind: 'git'; git: GitEvent; branch?: string } & Coalescing) // a commit, a branch switch, a merge
  | { kind: 'open' } // each time an orchestrator starts owning the folder
  | ({ kind: 'afterTask'; task: string; onlyOn?: 'success' | 'failure' } & Coalescing); // a VS Code task ended (extension only)

/** When a step of a flow runs, given how its upstreams in the flow ended (as GitHub Actions' `if:`). */
export const FLOW_CONDITIONS = ['success', 'failure', 'always'] as const;
export type FlowCondition = (typeof FLOW_CONDITIONS)[number];

export const ISOLATIONS = ['none', 'worktree'] as const;
export type Isolation = (typeof ISOLATIONS)[number];

export const GIT_EVENTS = ['commit', 'checkout', 'merge'] as const;
export type GitEvent = (typeof GIT_EVENTS)[number];

/**
 * What an event that arrives while a run of the action is in flight does:
 * - queue-one: keep one pending run; the newest event's data wins (changed files add up)
 * - skip:      drop it
 * - restart:   cancel the run in flight and start again (a dev server)
 * - parallel:  start another run (up to the action's concurrency)
 */
export const OVERLAPS = ['queue-one', 'skip', 'restart', 'parallel'] as const;
export type Overlap = (typeof OVERLAPS)[number];

/** How a development-event trigger coalesces; left out when default, so a definition's hash is stable. */
export interface Coalescing {
  debounce?: string; // quiet time before a burst becomes a run; default 300ms
  overlap?: Overlap; // default queue-one
}

export const DEFAULT_DEBOUNCE_MS = 300;

export type TriggerKind = Trigger['kind'];

/** What to run. The engine only knows the runner's name; runners are plugged in. */
export interface RunSpec {
  runner: string; // 'process' | 'task' | 'terminal' | anything a host registers
  command: string;
  /** For the `task` runner: run this tasks.json task (by label) instead of `command`. */
  task?: string;
  cwd?: string; // relative to the workspace folder, or absolute
  env?: Record<string, string>;
  /** worktree: run in a temporary `git worktree` of the commit the flow started from. */
  isolation?: 'worktree';
}

export type InterruptedPolicy = 'fail' | 'retry';
export type CatchUpPolicy = 'skip' | 'once' | 'all';

export interface Policy {
  timeoutMs?: number;
  maxAttempts: number; // 1 = no retries
  backoffMs: number; // first retry delay; doubles each attempt
  maxBackoffMs: number;
  concurrency: number; // runs of this action at once (matters for queued webhook/after triggers)
  onInterrupted: InterruptedPolicy;
  catchUp: CatchUpPolicy;
  catchUpLimit: number; // cap for catchUp 'all'
  /** Announce the run's end (absent: the folder's default, if any). */
  notify?: NotifySpec | 'off';
  /** When slots are short, higher first (absent: 0). */
  priority?: number;
}

/** A trigger as a caller writes it: `after` may name one action or several, by id or name. */
export type TriggerInput = Exclude<Trigger, { kind: 'after' }> | { kind: 'after'; after: string | string[]; if?: string };

/** What a caller supplies to create an action (before validation and defaults). */
export interface ActionInput {
  id?: string;
  name?: string;
  trigger: TriggerInput;
  run: { runner?: string; command: string; task?: string; cwd?: string; env?: Record<string, string>; isolation?: string };
  policy?: Partial<Omit<Policy, 'notify' | 'priority'>> & { priority?: number | string; timeout?: string; backoff?: string; notify?: string | NotifySpec; notifyOn?: string; notifyFormat?: string };
  idempotencyKey?: string;
}

/**
 * Action states, in order. Every transition is written as
 * `UPDATE … WHERE status IN (<states it may leave>)`, so a double transition is impossible.
 * - waiting:   no due time; waits for a webhook delivery, an upstream success or "run now"
 * - scheduled: has a due time
 * - retrying:  a failed run will be tried again at its due time
 * - running:   at least one run is in flight
 * - paused:    held by the user; keeps its place but is not claimed
 * - succeeded / failed / cancelled: finished for good
 */
export const ACTION_STATES = ['waiting', 'scheduled', 'retrying', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export type ActionStatus = (typeof ACTION_STATES)[number];
export const FINISHED_ACTION_STATES: readonly ActionStatus[] = ['succeeded', 'failed', 'cancelled'];

export const RUN_STATES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATES)[number];

export interface Action {
  id: string;
  name: string;
  status: ActionStatus;
  trigger: Trigger;
  run: RunSpec;
  policy: Policy;
  dueAt: number | null; // ms since epoch; null when not time-due
  attempt: number; // attempts made for the current occurrence
  running: number; // runs in flight
  pending: number; // queued triggers (webhook deliveries, upstream successes, run-now)
  idempotencyKey: string | null;
  createdAt: number;
  updatedAt: number;
  lastRunId: string | null;
  reason: string | null; // why it is failed/cancelled, when it is
  /** 'file': defined in `.sdlc/actions.yaml` (shared); 'local': added on this machine. */
  source: 'file' | 'local';
  /** A file action whose command nobody approved on this machine yet: it does not run. */
  needsApproval: boolean;
}

export interface Run {
  runId: string;
  actionId: string;
  name: string;
  runner: string;
  status: RunStatus;
  attempt: number;
  startedAt: number;
  endedAt: number | null;
  exitCode: number | null;
  reason: string | null;
  outputTail: string;
  cause: string; // what started it: 'schedule', 'retry', 'manual', 'after:<runId>', 'webhook:<id>', 'change', 'git:<event>', 'open', 'task:<label>', 'rerun'
  /** The flow run it is a step of (null or absent: a run of an action nothing follows). */
  flowId?: string | null;
  /** When it could have started (its due time, or when it was queued); before start: it waited for a slot. */
  queuedAt?: number | null;
  /** What it wrote to $SDLC_OUTPUT (key=value lines), read when it ended; for flow steps only. */
  outputs?: Record<string, string>;
  /** Where it ran when isolated in a git worktree (kept after a failure, for inspection). */
  worktree?: string | null;
}

/** A run as a list shows it (the panel's history): no output, plus its action's command and trigger kind while the action is stored. */
export interface RunSummary extends Omit<Run, 'outputTail' | 'outputs' | 'worktree'> {
  command?: string;
  trigger?: TriggerKind;
}

/**
 * Lifecycle event types. Each is recorded after the fact it names, with a monotonic seq.
 * - task.accepted   an action was created
 * - task.scheduled  an action got a (new) due time
 * - task.triggered  a run was queued by a webhook, an upstream success or "run now"
 * - task.started    a run was marked running (durably) and handed to its runner
 * - task.completed  a run exited 0
 * - task.failed     a run failed (exit code, timeout, runner error) or an action gave up
 * - task.retried    a failed run will be tried again (delay in data)
 * - task.cancelled  an action or run was cancelled
 * - task.recovered  a run left running by a process that died was resolved at start
 * - task.skipped    missed occurrences were skipped (catch-up policy) or a run was not started
 * - task.paused / task.resumed   the user held or released an action
 * - task.deleted    an action was removed
 * - orchestrator.started / orchestrator.stopped   an engine took or released the folder
 * - orchestrator.paused / orchestrator.resumed    the whole folder was held or released
 * - history.pruned  retention removed old runs and events
 * - history.cleared the user cleared the history
 * - webhook.received  a delivery was stored (before its 202 answer), or replayed
 * - webhook.processed a stored delivery queued a run of each action on its hook
 * - task.updated    the actions file changed an action's definition in place
 * - task.approved   a file action's command was approved and may run
 * - definitions.applied  the actions file was reconciled: which names got which definition, which went
 * - definitions.invalid  the actions file has problems; nothing was applied from it
 * - notification.queued     a run's end is to be announced: written to the outbox in the commit that records the end
 * - notification.attempted  one attempt to send it: accepted (sent), refused (retried at nextAt) or given up
 * - flow.started   a run of an action others follow opened a flow run: its steps and edges, frozen
 * - flow.step      a step of a flow run changed status (queued, running, ended, skipped, reset)
 * - flow.ended     every step of a flow run ended (succeeded, failed), or it was cancelled
 * - flow.rerun     "re-run failed": the flow runs again from its failed and cancelled steps
 */
export const EVENT_TYPES = [
  'task.accepted',
  'task.scheduled',
  'task.triggered',
  'task.started',
  'task.completed',
  'task.failed',
  'task.retried',
  'task.cancelled',
  'task.recovered',
  'task.skipped',
  'task.paused',
  'task.resumed',
  'task.deleted',
  'orchestrator.started',
  'orchestrator.stopped',
  'orchestrator.paused',
  'orchestrator.resumed',
  'history.pruned',
  'history.cleared',
  'engine.warning',
  'engine.clockStepped',
  'task.settled',
  'task.checkpoint',
  'webhook.received',
  'webhook.processed',
  'task.updated',
  'task.approved',
  'definitions.applied',
  'definitions.invalid',
  'notification.queued',
  'notification.attempted',
  'flow.started',
  'flow.step',
  'flow.ended',
  'flow.rerun',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * One webhook delivery as stored on arrival: the body bytes are in a file of their own
 * (`.sdlc/webhooks/<id>.body`), byte for byte; `headers` leave out credentials.
 */
export interface Delivery {
  id: string;
  hook: string;
  externalId: string | null;
  status: 'received' | 'processed';
  receivedAt: number;
  processedAt: number | null;
  source: string;
  headers: Record<string, string>;
  size: number;
  sha256: string;
  replayOf: string | null;
  /** The actions it queued a run for, when processed. */
  actions: { id: string; name: string }[];
}

/** A notification in the outbox: the request body is fixed when the run's end is recorded. */
export interface Notification {
  id: string;
  runId: string;
  actionId: string;
  /** The URL or $NAME; shown only through redactTarget(). */
  target: string;
  format: NotifyFormat;
  body: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  nextAt: number;
  createdAt: number;
  endedAt: number | null;
  lastError: string | null;
}

export interface LifecycleEvent {
  seq: number;
  ts: number;
  type: EventType;
  actionId: string | null;
  runId: string | null;
  data: Record<string, unknown>;
}

/**
 * A flow run: what one start of an action that others follow sets going. Its steps and edges
 * are frozen when it opens, so a definition changed meanwhile does not change a flow in flight.
 */
export const FLOW_STATES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type FlowStatus = (typeof FLOW_STATES)[number];
/**
 * - waiting: some upstream has not ended yet   - queued: its run is queued (slots, concurrency)
 * - running: its run is in flight (retries included)
 * - succeeded / failed / cancelled: its run ended so   - skipped: its condition did not hold
 */
export const STEP_STATES = ['waiting', 'queued', 'running', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATES)[number];
export const ENDED_STEP_STATES: readonly StepStatus[] = ['succeeded', 'failed', 'cancelled', 'skipped'];

export interface FlowStep {
  actionId: string;
  name: string;
  cond: FlowCondition;
  /** Its upstreams within this flow (action ids). */
  upstreams: string[];
  status: StepStatus;
  /** Its latest run in this flow. */
  runId: string | null;
  /** Runs it had in this flow (re-runs count). */
  attempt: number;
  reason: string | null;
  /** Topological position: upstreams always come first. */
  position: number;
  startedAt: number | null;
  endedAt: number | null;
}

export interface Flow {
  flowId: string;
  rootActionId: string;
  /** The root action's name, as it was when the flow opened. */
  name: string;
  status: FlowStatus;
  startedAt: number;
  endedAt: number | null;
  /** The commit HEAD pointed at when the flow opened (worktree steps check it out). */
  commit: string | null;
  reason: string | null;
  /** 1, plus one for each "re-run failed". */
  attempt: number;
  steps?: FlowStep[];
}

/** The upstream ids of an `after` trigger (one id in actions stored before schema 6). */
export function upstreamsOf(t: Trigger): string[] {
  if (t.kind !== 'after') return [];
  const a = t.after as string[] | string;
  return Array.isArray(a) ? a : [a];
}

export const DEFAULT_POLICY: Policy = {
  maxAttempts: 1,
  backoffMs: 1000,
  maxBackoffMs: 10 * 60_000,
  concurrency: 1,
  onInterrupted: 'fail',
  catchUp: 'once',
  catchUpLimit: 10,
};

export function isRecurring(trigger: Trigger): boolean {
  return trigger.kind === 'cron' || trigger.kind === 'every';
}

/** Triggers that queue runs on an outside event rather than at a time. */
export function isEventTriggered(trigger: Trigger): boolean {
  return trigger.kind === 'webhook' || trigger.kind === 'after' || trigger.kind === 'manual' || isDevTriggered(trigger);
}

/** Triggers fed by what happens while people develop (file changes, git, folder open, tasks). */
export function isDevTriggered(trigger: Trigger): trigger is Extract<Trigger, { kind: 'change' | 'git' | 'open' | 'afterTask' }> {
  return trigger.kind === 'change' || trigger.kind === 'git' || trigger.kind === 'open' || trigger.kind === 'afterTask';
}

/** The trigger in words; `nameOf` names an `after` trigger's upstreams (ids otherwise). */
export function describeTrigger(t: Trigger, nameOf?: (id: string) => string | undefined): string {
  switch (t.kind) {
    case 'at':
      return `at ${t.at}`;
    case 'delay':
      return `in ${t.delay}`;
    case 'cron':
      return `cron "${t.cron}"${t.tz ? ` (${t.tz})` : ''}`;
    case 'every':
      return `every ${t.every}`;
    case 'webhook':
      return `on webhook "${t.hook}"`;
    case 'after':
      return `after ${upstreamsOf(t).map((id) => nameOf?.(id) ?? id).join(', ')}${t.if ? ` (if ${t.if})` : ''}`;
    case 'manual':
      return 'manual';
    case 'change':
      return `on change of ${t.paths.join(', ')}${t.ignore?.length ? ` (ignoring ${t.ignore.join(', ')})` : ''}`;
    case 'git':
      return `on git ${t.git}${t.branch ? ` on ${t.branch}` : ''}`;
    case 'open':
      return 'on folder open';
    case 'afterTask':
      return `after task "${t.task}"${t.onlyOn ? ` (on ${t.onlyOn})` : ''}`;
  }
}
