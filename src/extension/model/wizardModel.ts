// The Schedule Action wizard's choices and the parsing and validation of what the user types
// at each step. No vscode here: the wizard in ../scheduleWizard.ts shows these.
import { parseDuration } from '../../core/duration';
import { ValidationError } from '../../core/errors';
import { GIT_EVENTS, type GitEvent, type Trigger } from '../../core/model';
import { branchPatternProblem, globProblem } from '../../core/triggers/globs';
import { validateCron } from '../../core/schedule';
import { parseIsoTime } from '../../core/validate';
import type { Choice, TypedWhen } from './whenChoices';
import * as l10n from '@vscode/l10n';

export { whenChoices, whenPrompts, type Choice, type TypedWhen, type WhenKind } from './whenChoices';

export type RunKind = 'task' | 'terminal' | 'process' | 'tasksJson';

export function runChoices(defaultRunner: string): Choice<RunKind>[] {
  const mark = (r: string) => (r === defaultRunner ? l10n.t(' (default)') : '');
  return [
    { value: 'task', label: l10n.t('$(tools) Shell command as a VS Code task'), description: mark('task'), detail: l10n.t('Runs in the terminal panel; its exit code is recorded.') },
    { value: 'terminal', label: l10n.t('$(terminal) Shell command in a terminal'), description: mark('terminal'), detail: l10n.t('Runs in a named terminal that is reused for this action.') },
    { value: 'process', label: l10n.t('$(server-process) Shell command as a background process'), description: mark('process'), detail: l10n.t('Runs hidden; its output is kept in the history.') },
    { value: 'tasksJson', label: l10n.t('$(checklist) A task from tasks.json'), detail: l10n.t('Runs one of this folder’s tasks; its problem matchers feed the Problems panel.') },
  ].sort((a, b) => (a.value === defaultRunner ? -1 : b.value === defaultRunner ? 1 : 0)) as Choice<RunKind>[];
}

/** What a step's input box shows as you type: an error, or information about a good value. */
export type Feedback = { ok: false; message: string } | { ok: true; trigger: Trigger; info?: string };

const pad = (n: number) => String(n).padStart(2, '0');
function localTime(ms: number): string {
  const d = new Date(ms);
  const day = d.toLocaleDateString('en-US', { weekday: 'short' });
  return `${day} ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "17:30" means the next 17:30 (today or tomorrow); otherwise an ISO date and time, local unless zoned. */
export function parseAt(text: string, now: number): number {
  const s = text.trim();
  const hm = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (hm) {
    const [h, m] = [Number(hm[1]), Number(hm[2])];
    if (h > 23 || m > 59) throw new ValidationError('at', l10n.t('"{0}" is not a time of day; write HH:MM, e.g. 17:30', s));
    const d = new Date(now);
    d.setHours(h, m, 0, 0);
    if (d.getTime() <= now) d.setDate(d.getDate() + 1);
    return d.getTime();
  }
  // A date and time without a zone is the user's local time, as people mean it.
  const local = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (local) {
    const [y, mo, d, h, mi, se] = local.slice(1).map((x) => Number(x ?? 0));
    const ms = new Date(y, mo - 1, d, h, mi, se).getTime();
    if (Number.isNaN(ms) || new Date(ms).getMonth() !== mo - 1) throw new ValidationError('at', l10n.t('"{0}" is not a valid date and time', s));
    return ms;
  }
  return parseIsoTime(s, 'at');
}

/** Validates one "when" input as the user types it. */
export function whenFeedback(kind: TypedWhen, text: string, now: number): Feedback {
  try {
    switch (kind) {
      case 'in': {
        const t = /^\s*\d+(\.\d+)?\s*$/.test(text) ? `${text.trim()}m` : text.trim();
        const ms = parseDuration(t, 'delay');
        return { ok: true, trigger: { kind: 'delay', delay: t }, info: l10n.t('Runs once, {0}', localTime(now + ms)) };
      }
      case 'at': {
        if (!text.trim()) return { ok: false, message: l10n.t('Type a time: 17:30, or 2026-12-01T09:00') };
        const at = parseAt(text, now);
        if (at <= now) return { ok: false, message: l10n.t('{0} is in the past; pick a later time', localTime(at)) };
        return { ok: true, trigger: { kind: 'at', at: new Date(at).toISOString() }, info: l10n.t('Runs once, {0}', localTime(at)) };
      }
      case 'cron': {
        const expr = text.trim();
        const next = validateCron(expr, undefined, now, 3);
        return { ok: true, trigger: { kind: 'cron', cron: expr }, info: l10n.t('Next: {0}', next.map(localTime).join(' · ')) };
      }
      case 'every': {
        const t = /^\s*\d+(\.\d+)?\s*$/.test(text) ? `${text.trim()}m` : text.trim();
        const ms = parseDuration(t, 'interval');
        if (ms < 1000) return { ok: false, message: l10n.t('Use an interval of a second or more') };
        return { ok: true, trigger: { kind: 'every', every: t }, info: l10n.t('First run {0}, then every {1}', localTime(now + ms), t) };
      }
      case 'webhook': {
        const hook = text.trim();
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(hook) || hook.length > 100) {
          return { ok: false, message: hook ? l10n.t('"{0}" is not a webhook name: use letters, digits, ".", "_" and "-"', hook) : l10n.t('Name the webhook, e.g. deploy') };
        }
        return { ok: true, trigger: { kind: 'webhook', hook }, info: l10n.t('Runs on each POST to /hooks/{0}', hook) };
      }
      case 'change': {
        const paths = text.split(',').map((g) => g.trim()).filter(Boolean);
        if (!paths.length) return { ok: false, message: l10n.t('Type a glob, e.g. src/**/*.ts') };
        for (const g of paths) {
          const problem = globProblem(g);
          if (problem) return { ok: false, message: problem.charAt(0).toUpperCase() + problem.slice(1) };
        }
        return { ok: true, trigger: { kind: 'change', paths }, info: l10n.t('Runs once per burst of changes to {0} (.git, .sdlc and node_modules left out)', paths.join(', ')) };
      }
      case 'git': {
        const [event, branch, ...rest] = text.trim().split(/\s+/);
        if (!GIT_EVENTS.includes(event as GitEvent)) return { ok: false, message: event ? l10n.t('Start with commit, checkout or merge ("{0}" is none of them)', event) : l10n.t('Start with commit, checkout or merge') };
        if (rest.length) return { ok: false, message: l10n.t('Give at most one branch pattern after the event, e.g. "commit main" or "checkout release/*"') };
        const problem = branch !== undefined ? branchPatternProblem(branch) : undefined;
        if (problem) return { ok: false, message: problem.charAt(0).toUpperCase() + problem.slice(1) };
        const what = { commit: l10n.t('each commit'), checkout: l10n.t('each switch of branch'), merge: l10n.t('each merge or fast-forward pull') }[event as GitEvent];
        return { ok: true, trigger: { kind: 'git', git: event as GitEvent, ...(branch ? { branch } : {}) }, info: branch ? l10n.t('Runs on {0} on {1}', what, branch) : l10n.t('Runs on {0}', what) };
      }
      case 'afterTask': {
        const task = text.trim();
        if (!task) return { ok: false, message: l10n.t('Type the label of a task in tasks.json, e.g. build') };
        return { ok: true, trigger: { kind: 'afterTask', task }, info: l10n.t('Runs each time the task "{0}" ends', task) };
      }
    }
  } catch (err) {
    const message = (err as Error).message.replace(/^delay /, '').replace(/^interval /, '');
    return { ok: false, message: message.charAt(0).toUpperCase() + message.slice(1) };
  }
}

export function commandFeedback(text: string): string | undefined {
  if (!text.trim()) return l10n.t('Type the shell command to run, e.g. npm test');
  if (text.length > 64 * 1024) return l10n.t('That command is too long (64 KiB at most)');
  return undefined;
}

/** A name from the command: its first words, short enough for a tree row. */
export function defaultName(command: string): string {
  const first = command.trim().split('\n')[0];
  return first.length > 40 ? `${first.slice(0, 39)}…` : first;
}

export function nameFeedback(text: string): string | undefined {
  if (!text.trim()) return l10n.t('Give the action a name');
  if (text.length > 200) return l10n.t('Keep the name under 200 characters');
  return undefined;
}
