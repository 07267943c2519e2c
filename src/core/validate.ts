// Turns what a caller asked for into a well-formed action, or a ValidationError that names
// the bad value and says what to write instead. Nothing is stored before this passes.
import { randomUUID as uuidv4 } from 'crypto';

/** What the uuid package's validate accepts: versions 1 to 8, the nil and the max uuid. */
const UUID = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|00000000-0000-0000-0000-000000000000|ffffffff-ffff-ffff-ffff-ffffffffffff)$/i;
const isUuid = (s: string): boolean => UUID.test(s);
import { parseDuration } from './duration';
import { ValidationError } from './errors';
import { DEFAULT_POLICY, FLOW_CONDITIONS, GIT_EVENTS, ISOLATIONS, OVERLAPS, upstreamsOf, type ActionInput, type Coalescing, type FlowCondition, type GitEvent, type Isolation, type Overlap, type CatchUpPolicy, type InterruptedPolicy, type Policy, type RunSpec, type Trigger, type TriggerInput } from './model';
import { findCycle } from './flows/graph';
import { validateNotify } from './notify/notifySpec';
import { nextOccurrence, validateCron } from './schedule';
import { branchPatternProblem, globProblem } from './triggers/globs';

export const TRIGGER_FLAGS = '--at, --in, --cron, --every, --webhook, --after, --manual, --on-change, --on-git, --on-open or --after-task';
export const LIMITS = { name: 200, command: 64 * 1024, hook: 100, key: 200, envEntries: 200, upstreams: 100 };
const ISO_8601 = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?)?$/i;
const HOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const RUNNER_NAME = /^[a-z][a-z0-9_-]*$/;

/** What validation needs to know about actions that already exist. */
export interface ExistingActions {
  /** The action with this id, or with this exact name if no id matches. */
  find(idOrName: string): { id: string; name: string; status: string; trigger: Trigger } | undefined;
  /** The upstreams of a stored action (to find a cycle that goes through stored actions). */
  upstreamsOf?(id: string): readonly string[] | undefined;
}

export interface ValidatedAction {
  id: string;
  name: string;
  trigger: Trigger;
  run: RunSpec;
  policy: Policy;
  dueAt: number | null;
  idempotencyKey: string | null;
}

export interface ValidateOptions {
  now: number;
  defaultRunner?: string;
  defaultCatchUp?: CatchUpPolicy;
  /** How far in the past an `at` time may be (a request queued by another process arrives late). */
  pastToleranceMs?: number;
}

function int(value: unknown, field: string, min: number, max: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new ValidationError(field, `${field} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new ValidationError(field, `${field} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as T;
}

export function parseIsoTime(text: string, field = 'at'): number {
  const s = String(text ?? '').trim();
  const ms = ISO_8601.test(s) ? Date.parse(s.replace(' ', 'T')) : NaN;
  if (!Number.isFinite(ms)) {
    throw new ValidationError(field, `"${text}" is not an ISO 8601 time; write e.g. 2026-05-01T09:30:00Z or 2026-05-01T09:30+02:00`);
  }
  return ms;
}

function validateTrigger(input: TriggerInput | undefined, opts: ValidateOptions, id: string, existing: ExistingActions, batch: Map<string, TriggerInput>): { trigger: Trigger; dueAt: number | null } {
  if (!input || typeof input !== 'object') throw new ValidationError('trigger', `say when to run: ${TRIGGER_FLAGS}`);
  const { now } = opts;
  switch (input.kind) {
    case 'at': {
      const at = parseIsoTime(input.at, 'at');
      if (at < now - (opts.pastToleranceMs ?? 0)) {
        throw new ValidationError('at', `time ${input.at} is in the past (now is ${new Date(now).toISOString()}); pick a later time, or use --in for a delay`);
      }
      return { trigger: { kind: 'at', at: new Date(at).toISOString() }, dueAt: Math.max(at, 0) };
    }
    case 'delay': {
      const ms = parseDuration(input.delay, 'delay');
      return { trigger: { kind: 'delay', delay: String(input.delay).trim() }, dueAt: now + ms };
    }
    case 'cron': {
      const tz = input.tz === undefined || input.tz === '' ? undefined : String(input.tz);
      const cron = String(input.cron ?? '').trim();
      const [first] = validateCron(cron, tz, now, 1);
      const trigger: Trigger = tz ? { kind: 'cron', cron, tz } : { kind: 'cron', cron };
      return { trigger, dueAt: first };
    }
    case 'every': {
      const every = String(input.every ?? '').trim();
      const ms = parseDuration(every, 'every');
      if (ms < 10) throw new ValidationError('every', `interval ${every} is too short; use 10ms or more`);
      const trigger: Trigger = { kind: 'every', every };
      return { trigger, dueAt: nextOccurrence(trigger, now) };
    }
    case 'webhook': {
      const hook = String(input.hook ?? '').trim();
      if (!HOOK_NAME.test(hook) || hook.length > LIMITS.hook) {
        throw new ValidationError('webhook', `webhook name "${input.hook}" is not valid; use letters, digits, ".", "_" and "-" (at most ${LIMITS.hook})`);
      }
      return { trigger: { kind: 'webhook', hook }, dueAt: null };
    }
    case 'after': {
      const refs = (Array.isArray(input.after) ? input.after : [input.after]).map((r) => String(r ?? '').trim()).filter(Boolean);
      if (!refs.length) throw new ValidationError('after', 'say which action this one follows: --after ACTION (repeat it for several)');
      if (refs.length > LIMITS.upstreams) throw new ValidationError('after', `${refs.length} upstreams; the limit is ${LIMITS.upstreams}`);
      const ids: string[] = [];
      for (const ref of refs) {
        const found = batch.has(ref) ? undefined : existing.find(ref);
        const upstreamId = batch.has(ref) ? ref : found?.id;
        if (!upstreamId) throw new ValidationError('after', `no action "${ref}" to run after; list actions with "sdlc-orchestrator list"`);
        if (found && ['succeeded', 'failed', 'cancelled'].includes(found.status)) {
          throw new ValidationError('after', `action "${found.name}" is already ${found.status} and will not run again, so nothing would trigger this one`);
        }
        if (upstreamId === id) throw new ValidationError('after', `an action cannot run after itself (${ref})`);
        if (ids.includes(upstreamId)) throw new ValidationError('after', `"${ref}" is named twice in --after`);
        ids.push(upstreamId);
      }
      const cond = input.if === undefined || input.if === '' ? 'success' : oneOf<FlowCondition>(input.if, 'if', FLOW_CONDITIONS);
      return { trigger: { kind: 'after', after: ids, ...(cond !== 'success' ? { if: cond } : {}) }, dueAt: null };
    }
    case 'manual':
      return { trigger: { kind: 'manual' }, dueAt: null };
    case 'change': {
      const paths = globList(input.paths, 'on-change');
      if (!paths.length) throw new ValidationError('on-change', 'say which files: --on-change "src/**/*.ts" (a glob relative to the workspace folder)');
      const ignore = globList(input.ignore ?? [], 'ignore');
      return { trigger: { kind: 'change', paths, ...(ignore.length ? { ignore } : {}), ...coalescing(input) }, dueAt: null };
    }
    case 'git': {
      const git = oneOf<GitEvent>(input.git, 'on-git', GIT_EVENTS);
      const branch = input.branch === undefined || input.branch === '' ? undefined : String(input.branch).trim();
      const problem = branch !== undefined ? branchPatternProblem(branch) : undefined;
      if (problem) throw new ValidationError('branch', `branch: ${problem}`);
      return { trigger: { kind: 'git', git, ...(branch !== undefined ? { branch } : {}), ...coalescing(input) }, dueAt: null };
    }
    case 'open':
      return { trigger: { kind: 'open' }, dueAt: null };
    case 'afterTask': {
      const task = String(input.task ?? '').trim();
      if (!task) throw new ValidationError('after-task', 'say which task: --after-task LABEL (a task label from tasks.json)');
      if (task.length > LIMITS.name) throw new ValidationError('after-task', `the task label is ${task.length} characters; the limit is ${LIMITS.name}`);
      const onlyOn = input.onlyOn === undefined ? undefined : oneOf<'success' | 'failure'>(input.onlyOn, 'only-on', ['success', 'failure']);
      return { trigger: { kind: 'afterTask', task, ...(onlyOn ? { onlyOn } : {}), ...coalescing(input) }, dueAt: null };
    }
    default:
      throw new ValidationError('trigger', `unknown trigger kind ${JSON.stringify((input as { kind: unknown }).kind)}`);
  }
}

function globList(value: unknown, field: string): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((g) => {
    const glob = typeof g === 'string' ? g.trim() : '';
    const problem = globProblem(glob);
    if (problem) throw new ValidationError(field, `${field}: ${problem}`);
    return glob;
  });
}

/** Debounce and overlap, kept only when given (the defaults are the engine's, not the definition's). */
function coalescing(input: Coalescing): Coalescing {
  const out: Coalescing = {};
  if (input.debounce !== undefined && input.debounce !== '') {
    const ms = parseDuration(input.debounce, 'debounce');
    if (ms > 10 * 60_000) throw new ValidationError('debounce', `debounce ${input.debounce} is too long; use 10m or less`);
    out.debounce = String(input.debounce).trim();
  }
  if (input.overlap !== undefined) out.overlap = oneOf<Overlap>(input.overlap, 'overlap', OVERLAPS);
  return out;
}

/** A debounce or overlap given to a trigger that is not a development event. */
function strayCoalescing(input: TriggerInput): string | undefined {
  const i = input as Coalescing & { kind: string };
  if (['change', 'git', 'afterTask'].includes(i.kind)) return undefined;
  return i.debounce !== undefined ? 'debounce' : i.overlap !== undefined ? 'overlap' : undefined;
}

function validateRun(input: ActionInput['run'] | undefined, opts: ValidateOptions): RunSpec {
  const command = typeof input?.command === 'string' ? input.command : '';
  if (!command.trim()) throw new ValidationError('run', 'the command is empty; say what to run, e.g. --run "npm test"');
  if (command.length > LIMITS.command) throw new ValidationError('run', `the command is ${command.length} characters; the limit is ${LIMITS.command}`);
  // A worktree step runs as a process (a task or terminal would run in the open folder), whatever the default.
  const runner = input?.runner ?? (input?.isolation === 'worktree' ? 'process' : (opts.defaultRunner ?? 'process'));
  if (!RUNNER_NAME.test(runner)) throw new ValidationError('runner', `runner "${runner}" is not valid; use process, task or terminal`);
  const spec: RunSpec = { runner, command };
  if (input?.task !== undefined && input.task !== '') {
    if (runner !== 'task') throw new ValidationError('task', `a tasks.json task runs only with the "task" runner (got "${runner}")`);
    spec.task = String(input.task);
  }
  if (input?.cwd !== undefined && input.cwd !== '') spec.cwd = String(input.cwd);
  if (input?.isolation !== undefined && input.isolation !== '' && oneOf<Isolation>(input.isolation, 'isolation', ISOLATIONS) === 'worktree') {
    if (runner !== 'process') throw new ValidationError('isolation', `isolation: worktree runs with the "process" runner only (got "${runner}"): a VS Code task or terminal runs in the open folder`);
    spec.isolation = 'worktree';
  }
  if (input?.env !== undefined) {
    if (typeof input.env !== 'object' || input.env === null || Array.isArray(input.env)) throw new ValidationError('env', 'env must be an object of NAME: value strings');
    const entries = Object.entries(input.env);
    if (entries.length > LIMITS.envEntries) throw new ValidationError('env', `env has ${entries.length} entries; the limit is ${LIMITS.envEntries}`);
    for (const [k, v] of entries) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new ValidationError('env', `environment variable name "${k}" is not valid`);
      if (typeof v !== 'string') throw new ValidationError('env', `environment variable ${k} must be a string`);
    }
    spec.env = { ...input.env };
  }
  return spec;
}

function validatePolicy(input: ActionInput['policy'], opts: ValidateOptions): Policy {
  const p: Policy = { ...DEFAULT_POLICY, catchUp: opts.defaultCatchUp ?? DEFAULT_POLICY.catchUp };
  if (!input) return p;
  if (input.timeout !== undefined) p.timeoutMs = parseDuration(input.timeout, 'timeout');
  else if (input.timeoutMs !== undefined) p.timeoutMs = int(input.timeoutMs, 'timeoutMs', 1, 2 ** 31 - 1);
  if (input.maxAttempts !== undefined) p.maxAttempts = int(input.maxAttempts, 'max-attempts', 1, 100);
  if (input.backoff !== undefined) p.backoffMs = parseDuration(input.backoff, 'backoff');
  else if (input.backoffMs !== undefined) p.backoffMs = int(input.backoffMs, 'backoffMs', 1, 2 ** 31 - 1);
  if (input.maxBackoffMs !== undefined) p.maxBackoffMs = int(input.maxBackoffMs, 'maxBackoffMs', 1, 2 ** 31 - 1);
  if (input.concurrency !== undefined) p.concurrency = int(input.concurrency, 'concurrency', 1, 1000);
  if (input.onInterrupted !== undefined) p.onInterrupted = oneOf<InterruptedPolicy>(input.onInterrupted, 'on-interrupted', ['fail', 'retry']);
  if (input.catchUp !== undefined) p.catchUp = oneOf<CatchUpPolicy>(input.catchUp, 'catch-up', ['skip', 'once', 'all']);
  if (input.catchUpLimit !== undefined) p.catchUpLimit = int(input.catchUpLimit, 'catch-up-limit', 1, 1000);
  if (input.priority !== undefined && input.priority !== '') {
    const priority = int(input.priority, 'priority', -1000, 1000);
    if (priority !== 0) p.priority = priority;
  }
  if (input.notify !== undefined || input.notifyOn !== undefined || input.notifyFormat !== undefined) {
    const n = input.notify;
    if (n === 'off') p.notify = 'off';
    else {
      const given = typeof n === 'object' && n !== null ? { notify: n.url, notifyOn: n.on, notifyFormat: n.format } : { notify: n, notifyOn: input.notifyOn, notifyFormat: input.notifyFormat };
      if (given.notify !== undefined && typeof given.notify !== 'string') throw new ValidationError('notify', 'notify must be a URL (or $NAME of an environment variable holding one) or "off"');
      const spec = validateNotify(given);
      if (spec) p.notify = spec;
    }
  }
  return p;
}

/**
 * Validates a batch of new actions together, so that a batch may refer to its own members
 * (`after` by id or name) and a dependency cycle is refused with its path named.
 */
export function validateActions(inputs: ActionInput[], existing: ExistingActions, opts: ValidateOptions): ValidatedAction[] {
  const ids = inputs.map((input) => {
    if (input.id !== undefined && !isUuid(input.id)) throw new ValidationError('id', `id "${input.id}" is not a uuid`);
    return input.id ?? uuidv4();
  });
  // Names inside the batch resolve to the batch's ids.
  const batch = new Map<string, TriggerInput>();
  inputs.forEach((input, i) => batch.set(ids[i], input.trigger));
  const byName = new Map<string, string>();
  inputs.forEach((input, i) => input.name && byName.set(input.name.trim(), ids[i]));
  const out = inputs.map((input, i): ValidatedAction => {
    const run = validateRun(input.run, opts);
    const name = (input.name ?? '').trim() || run.command.trim().split('\n')[0].slice(0, 60);
    if (name.length > LIMITS.name) throw new ValidationError('name', `name is ${name.length} characters; the limit is ${LIMITS.name}`);
    let triggerInput = input.trigger;
    if (triggerInput?.kind === 'after') {
      const refs = Array.isArray(triggerInput.after) ? triggerInput.after : [triggerInput.after];
      triggerInput = { ...triggerInput, after: refs.map((r) => byName.get(String(r).trim()) ?? r) };
    }
    const stray = triggerInput && strayCoalescing(triggerInput);
    if (stray) throw new ValidationError(stray, `${stray} applies only to --on-change, --on-git and --after-task`);
    const { trigger, dueAt } = validateTrigger(triggerInput, opts, ids[i], existing, batch);
    if (trigger.kind === 'afterTask' && run.task === trigger.task) {
      throw new ValidationError('after-task', `this action runs the task "${trigger.task}" itself, so it would trigger itself after each run; pick another task`);
    }
    const policy = validatePolicy(input.policy, opts);
    // Parallel runs of one action need room for more than one.
    if ('overlap' in trigger && trigger.overlap === 'parallel' && input.policy?.concurrency === undefined) policy.concurrency = 8;
    const key = input.idempotencyKey === undefined || input.idempotencyKey === '' ? null : String(input.idempotencyKey);
    if (key !== null && key.length > LIMITS.key) throw new ValidationError('key', `idempotency key is ${key.length} characters; the limit is ${LIMITS.key}`);
    return { id: ids[i], name, trigger, run, policy, dueAt, idempotencyKey: key };
  });
  out.forEach((a) => batch.set(a.id, a.trigger));
  assertNoCycle(out, existing, batch);
  return out;
}

/** Follows the new actions' `after` edges (through stored actions too); coming back to where one started is a cycle. */
function assertNoCycle(actions: ValidatedAction[], existing: ExistingActions, batch: Map<string, TriggerInput>): void {
  const upstreams = (id: string): readonly string[] | undefined => {
    const t = batch.get(id);
    if (t) return t.kind === 'after' ? (t.after as string[]) : [];
    if (existing.upstreamsOf) return existing.upstreamsOf(id);
    const found = existing.find(id)?.trigger;
    return found ? upstreamsOf(found) : undefined;
  };
  const names = new Map(actions.map((a) => [a.id, a.name] as const));
  const cycle = findCycle(
    actions.map((a) => a.id),
    upstreams,
    (id) => names.get(id) ?? existing.find(id)?.name ?? id,
  );
  if (cycle) throw new ValidationError('after', `dependency cycle: ${cycle.join(' → ')}; an action cannot (indirectly) wait for itself`);
}
