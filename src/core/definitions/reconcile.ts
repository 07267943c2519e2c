// Reconciliation, as a Kubernetes controller does it: compare what the actions file asks for
// with what the engine last applied from it, and change only the difference. Running it again
// with the same file changes nothing, so it can run on every start and every save.
//
// The `definitions` table is the controller's memory: the hash it last applied per name. A
// one-shot that already ran is therefore not created again when its row is pruned, and an
// unchanged action is never rewritten. Runs in the caller's transaction.
import { randomUUID as uuidv4 } from 'crypto'; // Node's own: the uuid package took 15 ms to load
import type { ActionInput, CatchUpPolicy, Trigger, TriggerInput } from '../model';
import type { ActionRow, Store } from '../store/store';
import type { Transitions } from '../transitions';
import { validateActions } from '../validate';
import type { FileAction, ParsedActionsFile } from './actionsFile';
import { approvalKeyOf } from './keys';

export const REMOVED_REASON = 'removed from .sdlc/actions.yaml';

export interface ReconcileOptions {
  now: number;
  defaultRunner?: string;
  defaultCatchUp?: CatchUpPolicy;
  /** Whether this machine's user approved what this action would execute. */
  isApproved: (action: FileAction) => boolean;
}

export interface ReconcileResult {
  created: string[];
  updated: string[];
  removed: string[];
  approved: string[];
  unchanged: number;
  /** One-shots whose `at` time passed before they were ever applied: not created. */
  passed: string[];
  /** File actions that wait for approval after this pass. */
  awaitingApproval: string[];
  /** Runs the caller must stop (of removed actions). */
  stopRuns: string[];
}

export function reconcile(store: Store, t: Transitions, file: ParsedActionsFile, opts: ReconcileOptions): ReconcileResult {
  if (file.problems.length) throw new Error('an actions file with problems is never applied');
  const { now } = opts;
  const result: ReconcileResult = { created: [], updated: [], removed: [], approved: [], unchanged: 0, passed: [], awaitingApproval: [], stopRuns: [] };
  const applied = new Map(store.appliedDefinitions().map((d) => [d.name, d] as const));
  // Compared by their heads (id, hash, gate, upstream); whole rows are read only for what changes.
  type Head = ReturnType<Store['fileActionHeads']>[number];
  const active = new Map<string, Head>();
  const extra: Head[] = [];
  for (const head of store.fileActionHeads()) {
    if (active.has(head.name)) extra.push(head); // two unfinished rows for one name: only one stays
    else active.set(head.name, head);
  }
  const desired = new Map(file.actions.map((a) => [a.name, a] as const));
  const row = (head: Head): ActionRow => store.getAction(head.id)!;

  const idOf = new Map<string, string>();
  for (const d of file.actions) idOf.set(d.name, active.get(d.name)?.id ?? uuidv4());
  const upstreamIds = (d: FileAction): string[] => {
    const t = d.input.trigger;
    return t.kind !== 'after' ? [] : (Array.isArray(t.after) ? t.after : [t.after]).map((n) => idOf.get(n)!);
  };
  const triggerOf = (d: FileAction): TriggerInput => (d.input.trigger.kind === 'after' ? { ...d.input.trigger, after: upstreamIds(d) } : d.input.trigger);

  const changed: FileAction[] = [];
  const set: Record<string, string> = {};
  for (const d of file.actions) {
    const head = active.get(d.name);
    const last = applied.get(d.name);
    const upstreamMoved = head !== undefined && d.input.trigger.kind === 'after' && head.upstreams.join(' ') !== [...upstreamIds(d)].sort().join(' ');
    if (head && (head.defHash !== d.hash || upstreamMoved)) changed.push(d);
    else if (!head && last?.hash !== d.hash) changed.push(d);
    else {
      result.unchanged++;
      if (head && last?.hash !== d.hash) set[d.name] = d.hash; // a row from before the table knew it
      if (head?.gate && opts.isApproved(d)) {
        t.approve(row(head), now);
        result.approved.push(d.name);
      }
    }
  }

  // The changed and new ones are validated together, by the rules `add` uses; the rest of the
  // file is what they may refer to.
  const inputs: ActionInput[] = changed.map((d) => ({ ...d.input, id: idOf.get(d.name)!, trigger: triggerOf(d) }));
  const byId = new Map(file.actions.map((d) => [idOf.get(d.name)!, d] as const));
  const validated = validateActions(
    inputs,
    {
      find: (id) => (byId.has(id) ? { id, name: byId.get(id)!.name, status: 'waiting', trigger: triggerOf(byId.get(id)!) as Trigger } : undefined),
      upstreamsOf: (id) => (byId.has(id) ? upstreamIds(byId.get(id)!) : undefined),
    },
    { now, defaultRunner: opts.defaultRunner, defaultCatchUp: opts.defaultCatchUp, pastToleranceMs: Number.POSITIVE_INFINITY },
  );
  validated.forEach((v, i) => {
    const d = changed[i];
    const head = active.get(d.name);
    const passed = v.trigger.kind === 'at' && v.dueAt !== null && v.dueAt < now;
    if (head) {
      const before = row(head);
      if (passed && JSON.stringify(before.trigger) !== JSON.stringify(v.trigger)) {
        result.stopRuns.push(...t.cancel(before.id, now, 'its "at" time in .sdlc/actions.yaml has passed', { from: 'file' }));
      } else {
        const keyChanged = approvalKeyOf(before.run) !== d.approvalKey;
        const gate = opts.isApproved(d) ? null : keyChanged ? d.approvalKey : before.gate;
        const fields = (['trigger', 'run', 'policy'] as const).filter((f) => JSON.stringify(before[f]) !== JSON.stringify(v[f]));
        t.redefine(before, v, d.hash, gate, now, fields);
      }
      result.updated.push(d.name);
    } else if (passed) {
      result.passed.push(d.name);
    } else {
      t.acceptFromFile(v, d.hash, opts.isApproved(d) ? null : d.approvalKey, now);
      result.created.push(d.name);
    }
    set[d.name] = d.hash;
    store.write('setDefinition', [d.name, d.hash, v.id, now]);
  });
  for (const name of Object.keys(set)) if (!changed.some((d) => d.name === name)) store.write('setDefinition', [name, set[name], active.get(name)!.id, now]);

  // What the file no longer has ends; its history stays.
  const gone = new Set([...applied.keys(), ...active.keys()].filter((name) => !desired.has(name)));
  for (const head of [...extra, ...[...gone].map((n) => active.get(n)).filter((h): h is Head => h !== undefined)]) {
    result.stopRuns.push(...t.cancel(head.id, now, REMOVED_REASON, { from: 'file' }));
  }
  for (const name of gone) {
    if (applied.has(name)) store.write('deleteDefinition', [name]);
    result.removed.push(name);
  }
  if (Object.keys(set).length || gone.size) {
    store.addEvent(now, 'definitions.applied', null, null, {
      file: file.sha256,
      set,
      removed: [...gone],
      created: result.created,
      updated: result.updated,
      ...(result.passed.length ? { passed: result.passed } : {}),
    });
  }
  result.awaitingApproval.push(...store.gatedActions().map((r) => r.name));
  return result;
}

/** Releases the file actions waiting for any of these approval keys; returns their names. */
export function approveKeys(store: Store, t: Transitions, keys: readonly string[], now: number): string[] {
  const wanted = new Set(keys);
  const names: string[] = [];
  for (const row of store.gatedActions()) {
    if (!wanted.has(row.gate!)) continue;
    t.approve(row, now);
    names.push(row.name);
  }
  return names;
}
