// Writing an action into `.sdlc/actions.yaml` (Schedule Action "in the actions file", Move to
// Actions File): the engine's action in the file's words, added to the document so that its
// comments and layout stay as the team wrote them.
import { isMap, parseDocument } from 'yaml';
import { ValidationError } from '../errors';
import { DEFAULT_POLICY, type Action } from '../model';
import { NAME, parseActionsFile, type FileDefinition } from './actionsFile';

const HEADER = `# SDLC Orchestrator actions, shared with everyone who clones this repository.
# Each key is an action's name; the keys of an action are those of \`sdlc-orchestrator add\`.
# Commands from this file run on a machine only after its user approved them there.
`;

/** A duration the way people write it: the largest whole unit ("30m", "2h", "90s"). */
export function durationText(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A name the file accepts, made from one it does not ("npm test" → "npm-test"). */
export function suggestName(name: string): string {
  return name.trim().replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 100);
}

/** An action in the file's vocabulary. `after` needs the upstream's name, which must be a file action too. */
export function definitionOf(a: Pick<Action, 'trigger' | 'run' | 'policy'>, upstreamName?: (id: string) => string | undefined): FileDefinition {
  const d: FileDefinition = {};
  if (a.run.task) d.task = a.run.task;
  else d.run = a.run.command;
  d.runner = a.run.runner;
  if (a.run.cwd) d.cwd = a.run.cwd;
  if (a.run.env && Object.keys(a.run.env).length) d.env = { ...a.run.env };
  if (a.run.isolation) d.isolation = a.run.isolation;
  const t = a.trigger;
  switch (t.kind) {
    case 'at':
      d.at = t.at;
      break;
    case 'delay':
      d.in = t.delay;
      break;
    case 'cron':
      d.cron = t.cron;
      if (t.tz) d.tz = t.tz;
      break;
    case 'every':
      d.every = t.every;
      break;
    case 'webhook':
      d.webhook = t.hook;
      break;
    case 'after': {
      const names = t.after.map((id) => upstreamName?.(id));
      if (names.some((n) => !n)) throw new ValidationError('after', 'it runs after an action that is not in the actions file; move that one into the file first');
      d.after = names.length === 1 ? names[0] : (names as string[]).sort();
      if (t.if) d.if = t.if;
      break;
    }
    case 'manual':
      d.manual = true;
      break;
    case 'change':
      d['on-change'] = [...t.paths];
      if (t.ignore?.length) d.ignore = [...t.ignore];
      break;
    case 'git':
      d['on-git'] = t.git;
      if (t.branch) d.branch = t.branch;
      break;
    case 'open':
      d['on-open'] = true;
      break;
    case 'afterTask':
      d['after-task'] = t.task;
      if (t.onlyOn) d['only-on'] = t.onlyOn;
      break;
  }
  if ('debounce' in t && t.debounce) d.debounce = t.debounce;
  if ('overlap' in t && t.overlap) d.overlap = t.overlap;
  const p = a.policy;
  if (p.timeoutMs) d.timeout = durationText(p.timeoutMs);
  if (p.maxAttempts !== DEFAULT_POLICY.maxAttempts) d['max-attempts'] = p.maxAttempts;
  if (p.backoffMs !== DEFAULT_POLICY.backoffMs) d.backoff = durationText(p.backoffMs);
  if (p.concurrency !== DEFAULT_POLICY.concurrency) d.concurrency = p.concurrency;
  if (p.onInterrupted !== DEFAULT_POLICY.onInterrupted) d['on-interrupted'] = p.onInterrupted;
  if (p.priority) d.priority = p.priority;
  d['catch-up'] = p.catchUp;
  return d;
}

/**
 * The file's text with one more action. Refuses (ValidationError) a file that has problems
 * now, a name it already defines, or a result that would not be valid.
 */
export function addToActionsFile(text: string | undefined, name: string, def: FileDefinition, now: number): string {
  const current = text ?? '';
  const before = parseActionsFile(current, 'actions.yaml', { now });
  if (before.problems.length) {
    const p = before.problems[0];
    throw new ValidationError('file', `.sdlc/actions.yaml has problems (line ${p.line}: ${p.message}); fix them first`);
  }
  if (!NAME.test(name) || name.length > 100) {
    const suggestion = suggestName(name);
    throw new ValidationError('name', `"${name}" cannot name an action in .sdlc/actions.yaml: use letters, digits, ".", "_" and "-"${suggestion ? ` (e.g. "${suggestion}")` : ''}`);
  }
  if (before.actions.some((a) => a.name === name)) throw new ValidationError('name', `.sdlc/actions.yaml already defines "${name}"; pick another name`);
  const doc = parseDocument(current.trim() ? current : `${HEADER}actions:\n`);
  const actions = doc.get('actions');
  if (!isMap(actions)) doc.set('actions', doc.createNode({}));
  // Plain values; a cron expression is quoted since "*" starts an alias in YAML.
  const node = doc.createNode(def);
  doc.setIn(['actions', name], node);
  const out = doc.toString({ lineWidth: 0 });
  const after = parseActionsFile(out, 'actions.yaml', { now });
  if (after.problems.length) {
    const p = after.problems[0];
    throw new ValidationError('file', `"${name}" cannot be written to .sdlc/actions.yaml: line ${p.line}: ${p.message}`);
  }
  return out;
}
