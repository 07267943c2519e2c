// `.sdlc/actions.yaml`: the actions a repository commits. This file reads it into definitions
// and problems, each problem with the line and column it is about, so that the CLI, the log
// and the Problems panel can all point at the same place. It never touches the engine: an
// invalid file is reported whole, and nothing is applied from it (reconcile.ts).
import { LineCounter, isMap, isScalar, isSeq, parseDocument, visit, type Node, type Pair, type YAMLMap } from 'yaml';
import { ValidationError } from '../errors';
import type { ActionInput, TriggerInput } from '../model';
import { validateActions } from '../validate';
import { findCycle } from '../flows/graph';
import { nearest } from '../nearest';
import { approvalKeyOf, definitionHash, MAX_FILE_BYTES, sha } from './keys';

export { approvalKeyOf, definitionHash };

export { ACTIONS_FILE, MAX_FILE_BYTES, problemText } from './keys';
/** What an action may be called in the file (also a valid job id where definitions are exported). */
export const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const MAX_NAME = 100;
const RUNNERS = ['task', 'terminal', 'process'];

/** The keys an action may have, in the command line's words, and what each is (shown in errors). */
export const ACTION_KEYS = {
  run: 'the shell command to run',
  task: 'a tasks.json task label to run instead (runner: task)',
  runner: 'task | terminal | process',
  cwd: 'the folder to run in, relative to the workspace folder',
  env: 'extra environment variables, NAME: value',
  at: 'run once at this ISO 8601 time',
  in: 'run once this long after the action is first applied',
  cron: 'a cron schedule (5 or 6 fields)',
  tz: 'the IANA time zone of the cron schedule',
  every: 'run at this fixed interval',
  webhook: 'run on each delivery to this webhook',
  after: 'run as a step after this action, or each of a list of them (names in this file), in the flow they start',
  if: 'success | failure | always: when an "after" step runs, by how its upstreams ended (default success)',
  manual: 'run only when asked (Run Now)',
  timeout: 'stop a run after this long',
  'max-attempts': 'tries per occurrence, 1 = no retries',
  backoff: 'the first retry delay (doubles each try)',
  concurrency: 'runs of this action at once',
  priority: 'when slots are short, higher runs first (a whole number, default 0)',
  isolation: 'worktree: run in a temporary git worktree of the commit the flow started from',
  'on-interrupted': 'fail | retry: what a run cut off by a crash does',
  'catch-up': 'skip | once | all: occurrences missed while nothing ran',
  'on-change': 'run when files matching this glob (or list of globs) are created, changed or deleted',
  ignore: 'globs of files an on-change action leaves out',
  'on-git': 'commit | checkout | merge: run on this git event',
  branch: 'only on branches matching this glob (on-git)',
  'on-open': 'true: run each time an orchestrator starts owning the folder',
  'after-task': 'run after the VS Code task with this label ends',
  'only-on': 'success | failure: narrows after-task by the exit code',
  debounce: 'quiet time before a burst of events becomes one run (default 300ms)',
  overlap: 'queue-one | skip | restart | parallel: events while a run is in flight',
  notify: 'POST a summary of each run\'s end to this URL, or $NAME of the environment variable holding it; off: not even the folder default',
  'notify-on': 'failure | success | always: which ends are announced (default failure)',
  'notify-format': 'json | slack | discord: the form the receiver accepts (default: from the URL)',
} as const;
export type ActionKey = keyof typeof ACTION_KEYS;
export const TRIGGER_KEYS = ['at', 'in', 'cron', 'every', 'webhook', 'after', 'manual', 'on-change', 'on-git', 'on-open', 'after-task'] as const;
/** Keys that only qualify one kind of trigger, and the triggers each goes with. */
const MODIFIERS: Partial<Record<ActionKey, readonly ActionKey[]>> = {
  tz: ['cron'],
  ignore: ['on-change'],
  branch: ['on-git'],
  'only-on': ['after-task'],
  if: ['after'],
  debounce: ['on-change', 'on-git', 'after-task'],
  overlap: ['on-change', 'on-git', 'after-task'],
  'notify-on': ['notify'],
  'notify-format': ['notify'],
};

/** An action as written in the file, normalized (strings, sorted env): what its hash is of. */
export type FileDefinition = Partial<Record<Exclude<ActionKey, 'env' | 'manual' | 'max-attempts' | 'concurrency' | 'on-change' | 'ignore' | 'on-open' | 'after' | 'priority'>, string>> & {
  env?: Record<string, string>;
  /** One name, or several (sorted: the order they are written in does not change the definition). */
  after?: string | string[];
  priority?: number;
  manual?: true;
  'on-open'?: true;
  'on-change'?: string[];
  ignore?: string[];
  'max-attempts'?: number;
  concurrency?: number;
};

export interface Position {
  line: number; // 1-based
  column: number; // 1-based
}

export interface Problem extends Position {
  endLine: number;
  endColumn: number;
  message: string;
  /** The action it is about, when it is about one. */
  action?: string;
}

export interface FileAction {
  name: string;
  /** Where the action's name is written. */
  at: Position & { endLine: number; endColumn: number };
  /** Where each of its keys' values is written. */
  keys: Partial<Record<ActionKey, Position & { endLine: number; endColumn: number }>>;
  definition: FileDefinition;
  /** What the engine is given; `after` names another action of the file. */
  input: ActionInput;
  /** Of the whole definition: a change to it updates the action. */
  hash: string;
  /** Of what would execute (command, task, cwd, env): a change to it needs approval again. */
  approvalKey: string;
}

export interface ParsedActionsFile {
  file: string;
  actions: FileAction[];
  problems: Problem[];
  /** Of the file's bytes, to tell a real change from a touch. */
  sha256: string;
}

export interface ParseOptions {
  now: number;
  defaultRunner?: string;
}

/** The first byte that is not UTF-8, as a line and column, or undefined when all is UTF-8. */
function firstInvalidUtf8(bytes: Buffer): Position | undefined {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    decoder.decode(bytes);
    return undefined;
  } catch {
    // Find it line by line, then byte by byte within the line.
  }
  let start = 0;
  for (let line = 1; start <= bytes.length; line++) {
    let end = bytes.indexOf(0x0a, start);
    if (end < 0) end = bytes.length;
    const slice = bytes.subarray(start, end);
    try {
      decoder.decode(slice);
    } catch {
      let good = 0;
      for (let n = 1; n <= slice.length; n++) {
        try {
          decoder.decode(slice.subarray(0, n));
          good = n;
        } catch {
          // A multi-byte character may be cut here; the next lengths tell.
        }
      }
      const column = new TextDecoder().decode(slice.subarray(0, good)).length + 1;
      return { line, column };
    }
    start = end + 1;
  }
  return { line: 1, column: 1 };
}

/** The file's bytes or text into definitions and problems. Never throws on bad content. */
export function parseActionsFile(content: string | Buffer, file: string, opts: ParseOptions): ParsedActionsFile {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const out: ParsedActionsFile = { file, actions: [], problems: [], sha256: sha(bytes.toString('latin1')) };
  const whole = (message: string, at: Position = { line: 1, column: 1 }) => out.problems.push({ ...at, endLine: at.line, endColumn: at.column + 1, message });
  if (bytes.length > MAX_FILE_BYTES) {
    whole(`the file is ${(bytes.length / 1024 / 1024).toFixed(1)} MiB; an actions file may be at most ${MAX_FILE_BYTES / 1024 / 1024} MiB — split generated definitions out of it`);
    return out;
  }
  const bad = typeof content === 'string' ? undefined : firstInvalidUtf8(bytes);
  if (bad) {
    whole('the file is not UTF-8 text (this byte is not a UTF-8 character); save it as UTF-8', bad);
    return out;
  }
  let text = typeof content === 'string' ? content : bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const lines = new LineCounter();
  // Duplicate keys are found below, so that the second one is pointed at rather than its map.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false, prettyErrors: false });
  const span = (node: { range?: [number, number, number?] | null } | null | undefined) => {
    const [start, end] = node?.range ?? [0, 1];
    const a = lines.linePos(start);
    const b = lines.linePos(Math.max(end, start + 1));
    return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
  };
  const problem = (node: Node | null | undefined, message: string, action?: string) => out.problems.push({ ...span(node), message, ...(action ? { action } : {}) });

  for (const err of doc.errors) {
    const a = lines.linePos(err.pos[0]);
    const b = lines.linePos(Math.max(err.pos[1], err.pos[0] + 1));
    out.problems.push({ line: a.line, column: a.col, endLine: b.line, endColumn: b.col, message: err.message.split('\n')[0] });
  }
  visit(doc, {
    Map(_key, map) {
      const seen = new Map<string, Node>();
      for (const item of map.items as Pair<Node, Node>[]) {
        const k = isScalar(item.key) ? String(item.key.value) : undefined;
        if (k === undefined) continue;
        const first = seen.get(k);
        if (first) problem(item.key, `"${k}" appears twice (first on line ${span(first).line}); each action name, and each key of an action, may appear once`);
        else seen.set(k, item.key);
      }
    },
  });
  if (out.problems.length) return out;

  const root = doc.contents;
  if (root === null || (isScalar(root) && (root.value === null || root.value === ''))) return out; // an empty file defines nothing
  if (!isMap(root)) {
    problem(root, 'the file must be a mapping with an "actions:" key, e.g.\nactions:\n  tests:\n    run: npm test\n    manual: true');
    return out;
  }
  let actionsNode: YAMLMap | undefined;
  for (const pair of root.items as Pair<Node, Node>[]) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (key === 'actions') {
      if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue;
      if (!isMap(pair.value)) problem(pair.value, '"actions" must be a mapping of action names to definitions');
      else actionsNode = pair.value;
    } else if (key === 'version') {
      if (!isScalar(pair.value) || pair.value.value !== 1) problem(pair.value, 'version must be 1 (the only version so far)');
    } else {
      problem(pair.key, `unknown top-level key "${key}"; the file has "actions:" (and optionally "version: 1")`);
    }
  }
  if (!actionsNode) return out;

  for (const pair of actionsNode.items as Pair<Node, Node>[]) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!NAME.test(name) || name.length > MAX_NAME) {
      problem(pair.key, `action name "${name}" is not valid; use letters, digits, ".", "_" and "-" (at most ${MAX_NAME}), starting with a letter, digit or "_"`);
      continue;
    }
    const parsed = parseAction(name, pair, span, problem, opts);
    if (parsed) out.actions.push(parsed);
  }
  checkAfter(out, actionsNode);
  out.problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return out;
}

type Spanner = (node: { range?: [number, number, number?] | null } | null | undefined) => Position & { endLine: number; endColumn: number };

function parseAction(name: string, pair: Pair<Node, Node>, span: Spanner, problem: (n: Node | null | undefined, m: string, a?: string) => void, opts: ParseOptions): FileAction | undefined {
  let ok = true;
  const fail = (node: Node | null | undefined, message: string) => {
    ok = false;
    problem(node, `${name}: ${message}`, name);
  };
  if (!isMap(pair.value)) {
    fail(pair.value ?? (pair.key as Node), `the definition must be a mapping of keys (run, cron, …), e.g.\n  ${name}:\n    run: npm test\n    manual: true`);
    return undefined;
  }
  const def: FileDefinition = {};
  const keys: FileAction['keys'] = {};
  const nodes: Partial<Record<ActionKey, Node>> = {};
  for (const item of pair.value.items as Pair<Node, Node>[]) {
    const key = isScalar(item.key) ? String(item.key.value) : '';
    if (!(key in ACTION_KEYS)) {
      const near = nearest(key, Object.keys(ACTION_KEYS));
      fail(item.key, `unknown key "${key}"${near ? `; did you mean "${near}"?` : `; the keys are ${Object.keys(ACTION_KEYS).join(', ')}`}`);
      continue;
    }
    const k = key as ActionKey;
    nodes[k] = item.value ?? item.key;
    keys[k] = span(item.value ?? item.key);
    const v = item.value;
    const scalar = isScalar(v) ? v.value : undefined;
    switch (k) {
      case 'env': {
        if (!isMap(v)) {
          fail(v, 'env must be a mapping of NAME: value');
          break;
        }
        const env: Record<string, string> = {};
        for (const e of v.items as Pair<Node, Node>[]) {
          const ek = isScalar(e.key) ? String(e.key.value) : '';
          const ev = isScalar(e.value) ? e.value.value : undefined;
          if (ev === undefined || ev === null || typeof ev === 'object') fail(e.value ?? e.key, `env ${ek} must be a string, number or boolean`);
          else env[ek] = String(ev);
        }
        def.env = Object.fromEntries(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)));
        break;
      }
      case 'manual':
      case 'on-open':
        if (scalar !== true) fail(v, `${k} must be true (or be left out)`);
        else def[k] = true;
        break;
      case 'on-change':
      case 'ignore': {
        // One glob or a list of them; kept as a list either way (the definition's hash does not care how it was written).
        const items = isSeq(v) ? v.items : [v];
        const globs: string[] = [];
        for (const item of items as (Node | null)[]) {
          const g = isScalar(item) ? item.value : undefined;
          if (typeof g === 'string' && g.trim() !== '') globs.push(g.trim());
          else fail(item ?? v, `${k} takes a glob or a list of globs, e.g. "src/**/*.ts"`);
        }
        if (!globs.length && ok) fail(v, `${k} needs at least one glob`);
        def[k] = globs;
        break;
      }
      case 'max-attempts':
      case 'concurrency':
      case 'priority':
        if (typeof scalar !== 'number' || !Number.isInteger(scalar)) fail(v, `${k} must be a whole number`);
        else def[k] = scalar;
        break;
      case 'after': {
        // One name or a list of them; one is kept as a string, so existing definitions keep their hash.
        const items = isSeq(v) ? v.items : [v];
        const names: string[] = [];
        for (const item of items as (Node | null)[]) {
          const n = isScalar(item) ? item.value : undefined;
          if (typeof n === 'string' && n.trim() !== '') names.push(n.trim());
          else fail(item ?? v, 'after takes an action name or a list of names, e.g. [build, lint]');
        }
        if (!names.length && ok) fail(v, 'after needs at least one action name');
        const dup = names.find((n, i) => names.indexOf(n) !== i);
        if (dup) fail(v, `after names "${dup}" twice`);
        def.after = names.length === 1 && !isSeq(v) ? names[0] : [...names].sort();
        break;
      }
      default:
        if (typeof scalar === 'string' && scalar.trim() !== '') def[k] = scalar;
        else if (typeof scalar === 'number' && ['timeout', 'backoff', 'in', 'every', 'debounce'].includes(k)) fail(v, `${k} needs a unit: write e.g. "${scalar}s" or "${scalar}m"`);
        else fail(v, `${k} must be a non-empty string`);
    }
  }
  if (!ok) return undefined;
  // In the order they are written, so that the one pointed at is the one added last.
  const triggers = TRIGGER_KEYS.filter((t) => def[t] !== undefined).sort((x, y) => keys[x]!.line - keys[y]!.line || keys[x]!.column - keys[y]!.column);
  if (triggers.length === 0) {
    fail(pair.key, `say when it runs: one of ${TRIGGER_KEYS.join(', ')} (manual: true runs it only when asked)`);
    return undefined;
  }
  if (triggers.length > 1) {
    fail(nodes[triggers[1]], `has two triggers (${triggers.join(' and ')}); an action has exactly one — split it into two actions, or use "after" to chain them`);
    return undefined;
  }
  for (const [modifier, goesWith] of Object.entries(MODIFIERS) as [ActionKey, readonly ActionKey[]][]) {
    if (def[modifier] !== undefined && !goesWith.some((t) => def[t] !== undefined)) {
      fail(nodes[modifier], `${modifier} applies only to ${goesWith.join(', ')}`);
      return undefined;
    }
  }
  if (def.runner !== undefined && !RUNNERS.includes(def.runner)) {
    fail(nodes.runner, `runner "${def.runner}" is not one of ${RUNNERS.join(', ')}`);
    return undefined;
  }
  if (def.run === undefined && def.task === undefined) {
    fail(pair.key, 'say what to run: run: "npm test" (or task: with runner: task)');
    return undefined;
  }
  const trigger: TriggerInput =
    def.at !== undefined ? { kind: 'at', at: def.at }
    : def.in !== undefined ? { kind: 'delay', delay: def.in }
    : def.cron !== undefined ? { kind: 'cron', cron: def.cron, ...(def.tz ? { tz: def.tz } : {}) }
    : def.every !== undefined ? { kind: 'every', every: def.every }
    : def.webhook !== undefined ? { kind: 'webhook', hook: def.webhook }
    : def.after !== undefined ? { kind: 'after', after: def.after, ...(def.if !== undefined ? { if: def.if } : {}) }
    : def['on-change'] !== undefined ? { kind: 'change', paths: def['on-change'], ...(def.ignore ? { ignore: def.ignore } : {}), ...coalescingOf(def) }
    : def['on-git'] !== undefined ? { kind: 'git', git: def['on-git'] as 'commit', ...(def.branch !== undefined ? { branch: def.branch } : {}), ...coalescingOf(def) }
    : def['on-open'] !== undefined ? { kind: 'open' }
    : def['after-task'] !== undefined ? { kind: 'afterTask', task: def['after-task'], ...(def['only-on'] !== undefined ? { onlyOn: def['only-on'] as 'success' } : {}), ...coalescingOf(def) }
    : { kind: 'manual' };
  const input: ActionInput = {
    name,
    trigger,
    run: {
      command: def.run ?? `task: ${def.task}`,
      ...(def.runner !== undefined ? { runner: def.runner } : {}),
      ...(def.task !== undefined ? { task: def.task } : {}),
      ...(def.cwd !== undefined ? { cwd: def.cwd } : {}),
      ...(def.env !== undefined ? { env: def.env } : {}),
      ...(def.isolation !== undefined ? { isolation: def.isolation } : {}),
    },
    policy: {
      ...(def.timeout !== undefined ? { timeout: def.timeout } : {}),
      ...(def['max-attempts'] !== undefined ? { maxAttempts: def['max-attempts'] } : {}),
      ...(def.backoff !== undefined ? { backoff: def.backoff } : {}),
      ...(def.concurrency !== undefined ? { concurrency: def.concurrency } : {}),
      ...(def.priority !== undefined ? { priority: def.priority } : {}),
      ...(def['on-interrupted'] !== undefined ? { onInterrupted: def['on-interrupted'] as 'fail' } : {}),
      ...(def['catch-up'] !== undefined ? { catchUp: def['catch-up'] as 'once' } : {}),
      ...(def.notify !== undefined ? { notify: def.notify } : {}),
      ...(def['notify-on'] !== undefined ? { notifyOn: def['notify-on'] } : {}),
      ...(def['notify-format'] !== undefined ? { notifyFormat: def['notify-format'] } : {}),
    },
  };
  // The values themselves are checked by the same rules as `add`; `after` is resolved within
  // the file (checkAfter), and a passed `at` is not an error here: it is a one-shot that is over.
  try {
    const checked = input.trigger.kind === 'after' ? { ...input, trigger: { kind: 'manual' as const } } : input;
    if (input.trigger.kind === 'after' && def.if !== undefined && !['success', 'failure', 'always'].includes(def.if)) {
      fail(nodes.if, `if must be one of success, failure, always (got "${def.if}")`);
      return undefined;
    }
    validateActions([checked], { find: () => undefined }, { now: opts.now, defaultRunner: opts.defaultRunner, pastToleranceMs: Number.POSITIVE_INFINITY });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const field = FIELD_KEYS[err.field] ?? (err.field as ActionKey);
    // Said in the file's words: `in`, not the engine's `delay`.
    fail(nodes[field] ?? pair.key, field !== err.field ? err.message.replace(new RegExp(`^${err.field}\\b`), field) : err.message);
    return undefined;
  }
  const hash = definitionHash(def);
  return { name, at: span(pair.key), keys, definition: def, input, hash, approvalKey: approvalKeyOf(input.run) };
}

/** validate.ts names fields as the CLI does; these are the ones spelled differently in the file. */
function coalescingOf(def: FileDefinition): { debounce?: string; overlap?: 'skip' } {
  return { ...(def.debounce !== undefined ? { debounce: def.debounce } : {}), ...(def.overlap !== undefined ? { overlap: def.overlap as 'skip' } : {}) };
}

const FIELD_KEYS: Record<string, ActionKey> = { notifyOn: 'notify-on', notifyFormat: 'notify-format', delay: 'in', maxAttempts: 'max-attempts', 'max-attempts': 'max-attempts', onInterrupted: 'on-interrupted', catchUp: 'catch-up', trigger: 'run' };

/** `after` must name actions of this file, and following the names must never come back. */
function checkAfter(out: ParsedActionsFile, actionsNode: YAMLMap): void {
  const byName = new Map(out.actions.map((a) => [a.name, a] as const));
  const allNames = new Set((actionsNode.items as Pair<Node, Node>[]).map((p) => (isScalar(p.key) ? String(p.key.value) : '')));
  const dropped = new Set<string>();
  const at = (a: FileAction) => a.keys.after!;
  const ups = (a: FileAction | undefined): string[] => {
    const after = a?.definition.after;
    return after === undefined ? [] : Array.isArray(after) ? after : [after];
  };
  for (const a of out.actions) {
    for (const target of ups(a)) {
      if (allNames.has(target)) continue;
      out.problems.push({ ...at(a), action: a.name, message: `${a.name}: after "${target}": no action of that name in this file; "after" names another action defined here (${[...byName.keys()].filter((n) => n !== a.name).slice(0, 5).join(', ') || 'there are no others'})` });
      dropped.add(a.name);
    }
    if (ups(a).includes(a.name)) {
      out.problems.push({ ...at(a), action: a.name, message: `${a.name}: an action cannot run after itself` });
      dropped.add(a.name);
    }
  }
  // Each cycle once, reported at the first of its actions in the file; then without it, the next.
  for (;;) {
    const live = out.actions.filter((a) => !dropped.has(a.name));
    const cycle = findCycle(
      live.map((a) => a.name),
      (name) => (dropped.has(name) ? [] : byName.has(name) ? ups(byName.get(name)) : undefined),
    );
    if (!cycle) break;
    const members = cycle.slice(0, -1);
    const first = out.actions.find((a) => members.includes(a.name))!;
    const from = members.indexOf(first.name);
    const shown = [...members.slice(from), ...members.slice(0, from), first.name];
    out.problems.push({ ...at(first), action: first.name, message: `${first.name}: dependency cycle through "after": ${shown.join(' → ')}; an action cannot (indirectly) wait for itself` });
    members.forEach((n) => dropped.add(n));
  }
  if (dropped.size) out.actions = out.actions.filter((a) => !dropped.has(a.name));
}
