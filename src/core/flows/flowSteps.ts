// Flow runs: when an action that others follow starts, its run opens a flow; each action that
// follows runs once in it, when all its upstreams in the flow have ended and its condition
// holds. Like the rest of the engine these are functions over the store inside the caller's
// transaction: a step's end and the runs it queues commit together, so a crash between them
// cannot lose a step or run one twice. Every change of a step is guarded by the status it
// leaves and recorded as a `flow.step` event (the fold in verify.ts reads them).
import { randomUUID as uuidv4 } from 'crypto'; // Node's own: the uuid package took 15 ms to load
import { NotFoundError, ValidationError } from '../errors';
import { ENDED_STEP_STATES, upstreamsOf, type FlowStep, type StepStatus } from '../model';
import type { ActionRow, RunRow, Store } from '../store/store';
import { FlowGraph } from './graph';
import { outputsEnv, type ParsedOutputs } from './outputs';

/** What flows ask of the transitions that own actions and runs. */
export interface FlowHost {
  /** Queues a run of a step (a trigger that carries the flow). */
  enqueueStep(action: ActionRow, cause: string, data: Record<string, string>, flowId: string, now: number, detail: Record<string, unknown>): void;
  /** Ends a step's run in flight as cancelled (its end comes back through runEnded). */
  cancelRun(runId: string, reason: string, now: number): void;
  /** Takes a step's queued run back. */
  unqueue(action: ActionRow, triggerId: number, reason: string, now: number): void;
  /** A step whose failed run waits for a retry gives the retry up. */
  dropRetry(action: ActionRow, reason: string, now: number): void;
}

type StepRow = FlowStep & { remaining: number; failedPath: boolean };

const ended = (s: StepStatus) => ENDED_STEP_STATES.includes(s);

export class Flows {
  private graph: FlowGraph | undefined;
  /** Outputs of a run that ended (the orchestrator reads its $SDLC_OUTPUT file). */
  readOutputs: (runId: string) => ParsedOutputs | undefined = () => undefined;
  /** Flows opened since the owner last looked that have a worktree step: they need the commit HEAD is at. */
  readonly needCommit: string[] = [];

  constructor(
    private readonly store: Store,
    private readonly host: FlowHost,
  ) {}

  /** The definitions changed: the graph is built again when next needed, never per tick. */
  invalidate(): void {
    this.graph = undefined;
  }

  private get g(): FlowGraph {
    if (!this.graph) {
      this.graph = new FlowGraph(
        this.store.followingActions().map((a) => ({
          id: a.id,
          name: a.name,
          after: upstreamsOf(a.trigger),
          cond: a.trigger.kind === 'after' ? (a.trigger.if ?? 'success') : 'success',
          isolated: a.isolated,
        })),
      );
    }
    return this.graph;
  }

  /** Whether a run of this action opens a flow: others follow it. */
  opensFlow(actionId: string): boolean {
    return this.g.hasDownstreams(actionId);
  }

  // ---- one step's changes ----

  private setStep(flowId: string, before: StepRow, next: Partial<StepRow>, now: number, detail: Record<string, unknown> = {}): StepRow {
    const s: StepRow = { ...before, ...next };
    const changed = this.store.write('updateStep', [
      s.status, s.remaining, s.runId, s.attempt, s.reason, s.failedPath ? 1 : 0, s.startedAt, s.endedAt, flowId, s.actionId, before.status,
    ]);
    if (changed !== 1) throw new Error(`step "${before.name}" of flow ${flowId} changed underneath (expected status ${before.status})`);
    if (ended(before.status) !== ended(s.status)) this.store.write('addOpenSteps', [ended(s.status) ? -1 : 1, flowId]);
    if (before.status !== s.status || before.runId !== s.runId) {
      this.store.addEvent(now, 'flow.step', s.actionId, s.runId, {
        flow: flowId,
        step: s.name,
        status: s.status,
        attempt: s.attempt,
        ...(s.reason ? { reason: s.reason } : {}),
        ...detail,
      });
    }
    return s;
  }

  private step(flowId: string, actionId: string): StepRow | undefined {
    return this.store.getStep(flowId, actionId);
  }

  // ---- opening, starting, ending ----

  /** Opens a flow run for a run of `root` just claimed; its steps and edges are frozen now. */
  open(root: ActionRow, runId: string, now: number): string {
    const flowId = uuidv4();
    const plan = this.g.plan(root.id, root.name);
    this.store.write('insertFlow', [flowId, root.id, root.name, now, plan.length]);
    plan.forEach((p, i) => {
      this.store.write('insertStep', [flowId, p.id, p.name, p.cond, p.upstreams.length, i]);
      for (const up of p.upstreams) this.store.write('insertEdge', [flowId, up, p.id]);
    });
    this.store.addEvent(now, 'flow.started', root.id, runId, {
      flow: flowId,
      root: root.name,
      steps: plan.map((p) => ({ action: p.id, name: p.name, after: p.upstreams, ...(p.cond !== 'success' ? { if: p.cond } : {}) })),
    });
    if (root.run.isolation === 'worktree' || plan.some((p) => this.g.isolated(p.id))) this.needCommit.push(flowId);
    const first = this.step(flowId, root.id)!;
    this.setStep(flowId, first, { status: 'running', runId, attempt: 1, startedAt: now }, now);
    return flowId;
  }

  /** A queued step's run was claimed (or a retry of its run started). */
  stepStarted(flowId: string, actionId: string, runId: string, now: number): void {
    const s = this.step(flowId, actionId);
    if (!s || (s.status !== 'queued' && s.status !== 'running')) return;
    this.setStep(flowId, s, { status: 'running', runId, startedAt: s.status === 'queued' ? now : s.startedAt }, now);
  }

  /**
   * A step's run ended for good (retries are over). Records its outputs, ends the step and
   * decides what follows. A run of an action others follow that started outside any flow (before
   * they followed it) opens its flow now.
   */
  runEnded(run: RunRow, action: ActionRow | undefined, status: 'succeeded' | 'failed' | 'cancelled', reason: string | null, now: number): void {
    let flowId = run.flowId;
    if (!flowId) {
      if (!action || !this.opensFlow(action.id)) return;
      flowId = this.open(action, run.runId, run.startedAt);
      this.store.write('setRunFlow', [flowId, run.runId]);
    }
    const s = this.step(flowId, run.actionId);
    if (!s || s.runId !== run.runId || s.status !== 'running') return; // a run the flow no longer waits for
    const read = this.readOutputs(run.runId);
    if (read && Object.keys(read.outputs).length) this.store.write('setRunOutputs', [JSON.stringify(read.outputs), run.runId]);
    const detail: Record<string, unknown> = {};
    if (read && Object.keys(read.outputs).length) detail.outputs = Object.keys(read.outputs);
    if (read?.problems.length) detail.outputProblems = read.problems.slice(0, 5);
    this.setStep(flowId, s, { status, reason, endedAt: now, failedPath: s.failedPath || status === 'failed' }, now, detail);
    this.advance(flowId, [run.actionId], now, run.runId);
  }

  /** A step's queued run was taken back (its action was cancelled or removed). */
  unqueued(flowId: string, actionId: string, reason: string, now: number): void {
    const s = this.step(flowId, actionId);
    if (!s || s.status !== 'queued') return;
    this.setStep(flowId, s, { status: 'cancelled', reason, endedAt: now }, now);
    this.advance(flowId, [actionId], now, null);
  }

  /**
   * Steps ended: each downstream whose upstreams have now all ended runs or is skipped by its
   * condition, and a skip ends it in turn. The flow ends when no step is left open.
   */
  private advance(flowId: string, endedIds: string[], now: number, lastRunId: string | null, rerun = false): void {
    const flow = this.store.getFlow(flowId);
    if (!flow) return;
    if (flow.status === 'running') {
      const queue = [...endedIds];
      for (let i = 0; i < queue.length; i++) {
        for (const downId of this.store.downstreamSteps(flowId, queue[i])) {
          const d = this.step(flowId, downId);
          if (!d || d.status !== 'waiting') continue;
          const remaining = Math.max(0, d.remaining - 1);
          const waiting = this.setStep(flowId, d, { remaining }, now);
          if (remaining > 0) continue;
          if (!this.evaluate(flowId, waiting, now, lastRunId, rerun)) queue.push(downId);
        }
      }
    }
    this.maybeEnd(flowId, now);
  }

  /** Runs a step whose upstreams all ended, or skips it; returns whether it runs. */
  private evaluate(flowId: string, d: StepRow, now: number, lastRunId: string | null, rerun: boolean): boolean {
    const ups = this.store.upstreamSteps(flowId, d.actionId);
    const failedAbove = ups.some((u) => u.failedPath);
    let why: string | null = null;
    if (d.cond === 'success') {
      const bad = ups.find((u) => u.status !== 'succeeded');
      if (bad) why = `upstream "${bad.name}" ${bad.status}`;
    } else if (d.cond === 'failure' && !failedAbove) {
      why = 'nothing upstream failed (if: failure)';
    }
    const action = why ? undefined : this.store.getAction(d.actionId);
    if (!why && !action) why = 'its action was deleted';
    // A finished action runs again in its flow (a one-shot's follower, a re-run); one the user cancelled does not.
    if (!why && action!.status === 'cancelled') why = `action "${action!.name}" is cancelled`;
    if (why) {
      this.setStep(flowId, d, { status: 'skipped', reason: why, endedAt: now, failedPath: failedAbove }, now);
      return false;
    }
    const env: Record<string, string> = outputsEnv(ups.filter((u) => u.status === 'succeeded' || u.status === 'failed'));
    const last = ups.find((u) => u.runId === lastRunId) ?? ups[ups.length - 1];
    if (last?.runId) Object.assign(env, { SDLC_UPSTREAM_ACTION_ID: last.actionId, SDLC_UPSTREAM_RUN_ID: last.runId });
    const cause = rerun ? 'rerun' : last?.runId ? `after:${last.runId}` : 'flow';
    this.setStep(flowId, d, { status: 'queued', attempt: d.attempt + 1, reason: null, failedPath: failedAbove, endedAt: null }, now);
    this.host.enqueueStep(action!, cause, env, flowId, now, { flow: flowId, ...(rerun ? { rerun: true } : {}) });
    return true;
  }

  private maybeEnd(flowId: string, now: number): void {
    if (this.store.openSteps(flowId) > 0) return;
    const flow = this.store.getFlow(flowId);
    if (!flow || flow.status !== 'running') return;
    const failed = this.store.stepsIn(flowId, ['failed']);
    const status = failed.length ? 'failed' : 'succeeded';
    const reason = failed.length ? `${failed.map((s) => `"${s.name}"`).join(', ')} failed` : null;
    this.store.write('endFlow', [status, now, reason, flowId]);
    this.store.addEvent(now, 'flow.ended', flow.rootActionId, null, { flow: flowId, status, ...(reason ? { reason } : {}), durationMs: now - flow.startedAt });
  }

  // ---- what users ask ----

  private mustGetFlow(flowId: string) {
    const flow = this.store.getFlow(flowId) ?? this.store.flowByPrefix(flowId);
    if (!flow) throw new NotFoundError(flowId);
    return flow;
  }

  /** Cancels a running flow: queued steps are taken back, running ones stopped; returns the runs to stop. */
  cancel(flowIdOrPrefix: string, reason: string, now: number): string[] {
    const flow = this.mustGetFlow(flowIdOrPrefix);
    const flowId = flow.flowId;
    if (flow.status !== 'running') throw new ValidationError('flow', `flow ${flowId.slice(0, 8)} of "${flow.name}" is already ${flow.status}`);
    this.store.write('endFlow', ['cancelled', now, reason, flowId]);
    this.store.addEvent(now, 'flow.ended', flow.rootActionId, null, { flow: flowId, status: 'cancelled', reason, durationMs: now - flow.startedAt });
    for (const t of this.store.triggersOfFlow(flowId)) {
      const action = this.store.getAction(t.actionId);
      if (action) this.host.unqueue(action, t.id, reason, now);
    }
    const stop: string[] = [];
    for (const s of this.store.stepsIn(flowId, ['waiting', 'queued', 'running'])) {
      const run = s.runId ? this.store.getRun(s.runId) : undefined;
      if (s.status === 'running' && run?.status === 'running') {
        this.host.cancelRun(run.runId, reason, now); // its end comes back through runEnded
        stop.push(run.runId);
        continue;
      }
      if (s.status === 'running') {
        const action = this.store.getAction(s.actionId);
        if (action && action.status === 'retrying') this.host.dropRetry(action, reason, now);
      }
      const current = this.step(flowId, s.actionId);
      if (current && !ended(current.status)) this.setStep(flowId, current, { status: 'cancelled', reason, endedAt: now }, now);
    }
    return stop;
  }

  /**
   * "Re-run failed": the failed and cancelled steps of an ended flow and everything after them
   * run again in the same flow; the steps that succeeded keep their runs and outputs.
   */
  rerunFailed(flowIdOrPrefix: string, now: number): { flowId: string; steps: string[] } {
    const flow = this.mustGetFlow(flowIdOrPrefix);
    const flowId = flow.flowId;
    if (flow.status === 'running') throw new ValidationError('flow', `flow ${flowId.slice(0, 8)} of "${flow.name}" is still running; wait for it to end or cancel it first`);
    if (flow.status === 'succeeded') throw new ValidationError('flow', `flow ${flowId.slice(0, 8)} of "${flow.name}" succeeded; nothing to re-run`);
    const seeds = this.store.stepsIn(flowId, ['failed', 'cancelled']);
    const reset = new Set(seeds.map((s) => s.actionId));
    const queue = [...reset];
    for (let i = 0; i < queue.length; i++) {
      for (const d of this.store.downstreamSteps(flowId, queue[i])) {
        if (!reset.has(d)) {
          reset.add(d);
          queue.push(d);
        }
      }
    }
    const all = this.store.flowWithSteps(flowId)!.steps!;
    const again = all.filter((s) => reset.has(s.actionId));
    for (const s of again) {
      const action = this.store.getAction(s.actionId);
      if (!action) throw new ValidationError('flow', `step "${s.name}" cannot run again: its action was deleted`);
      if (action.status === 'cancelled') throw new ValidationError('flow', `step "${s.name}" cannot run again: its action is cancelled`);
    }
    this.store.write('reopenFlow', [flowId]);
    this.store.addEvent(now, 'flow.rerun', flow.rootActionId, null, { flow: flowId, attempt: flow.attempt + 1, steps: again.map((s) => s.name) });
    const ready: string[] = [];
    for (const s of again) {
      const remaining = s.upstreams.filter((u) => reset.has(u)).length;
      const before = this.step(flowId, s.actionId)!;
      this.setStep(flowId, before, { status: 'waiting', remaining, reason: 're-run', failedPath: false, endedAt: null }, now);
      if (remaining === 0) ready.push(s.actionId);
    }
    const skipped: string[] = [];
    for (const id of ready) {
      const s = this.step(flowId, id)!;
      if (!this.evaluate(flowId, s, now, null, true)) skipped.push(id);
    }
    if (skipped.length) this.advance(flowId, skipped, now, null, true);
    return { flowId, steps: again.map((s) => s.name) };
  }

  // ---- retention ----

  /** Removes ended flows (their steps and edges) that ended before `before` or beyond the newest `keep`; returns how many. */
  prune(before: number, keep: number, batch: number): number {
    const ids = this.store.prunableFlows(before, keep, batch);
    for (const id of ids) this.remove(id);
    return ids.length;
  }

  clear(): number {
    const ids = this.store.endedFlowIds(1_000_000);
    for (const id of ids) this.remove(id);
    return ids.length;
  }

  private remove(flowId: string): void {
    this.store.write('deleteFlowSteps', [flowId]);
    this.store.write('deleteFlowEdges', [flowId]);
    this.store.write('deleteFlow', [flowId]);
  }
}
