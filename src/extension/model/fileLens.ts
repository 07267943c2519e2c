// What the editor shows above each action in `.sdlc/actions.yaml` (CodeLens) and on a cron
// value (hover): computed from the parsed file and the engine's state. No vscode here.
import * as l10n from '@vscode/l10n';
import type { FileAction } from '../../core/definitions/actionsFile';
import { describeTrigger, type Action, type Run } from '../../core/model';
import { validateCron } from '../../core/schedule';
import { failedHow } from './treeModel';
import { relativeTime } from './relativeTime';

export interface Lens {
  title: string;
  /** A command id; none for a lens that only says something. */
  command?: string;
  tooltip?: string;
}

/** The lenses of one action, left to right: what you can do, when it runs next, how it last went. */
export function lensesFor(def: FileAction, action: Action | undefined, lastRun: Pick<Run, 'status' | 'exitCode' | 'reason' | 'endedAt' | 'startedAt'> | undefined, fileHasProblems: boolean, now: number): Lens[] {
  if (!action) {
    return [
      fileHasProblems
        ? { title: l10n.t('$(warning) not applied: the file has problems (see Problems)'), tooltip: l10n.t('Nothing from this file is applied until every problem is fixed; the actions applied before keep running.') }
        : { title: l10n.t('$(circle-outline) not applied yet'), tooltip: l10n.t('The orchestrator applies the file when it saves; start it from the SDLC Orchestrator view.') },
    ];
  }
  if (action.needsApproval) {
    return [{ title: l10n.t('$(shield) Needs your approval to run: Review…'), command: 'sdlc.approveActions', tooltip: l10n.t('Commands from a file in the repository run only after you allow them on this machine.') }];
  }
  const lenses: Lens[] = [{ title: '$(play) Run Now', command: 'sdlc.runFileAction', tooltip: `Run ${def.name} now` }];
  lenses.push({ title: nextText(action, now) });
  if (lastRun) {
    const ok = lastRun.status === 'succeeded';
    const how = lastRun.status === 'running' ? l10n.t('$(sync~spin) running') : ok ? l10n.t('$(pass) succeeded') : lastRun.exitCode !== null ? l10n.t('$(error) failed (exit {0})', lastRun.exitCode) : `$(error) ${failedHow(lastRun)}`;
    lenses.push({ title: l10n.t('last: {0} {1}', how, relativeTime(lastRun.endedAt ?? lastRun.startedAt, now)), command: 'sdlc.showOutput', tooltip: lastRun.reason ?? l10n.t('Show the output of the last run') });
  } else {
    lenses.push({ title: l10n.t('never run yet') });
  }
  return lenses;
}

function nextText(a: Action, now: number): string {
  if (a.status === 'running') return a.running > 1 ? l10n.t('$(sync~spin) running ×{0}', a.running) : l10n.t('$(sync~spin) running');
  if (a.status === 'paused') return l10n.t('$(debug-pause) paused');
  if (a.status === 'succeeded' || a.status === 'failed' || a.status === 'cancelled') return `${a.status}${a.reason ? `: ${a.reason}` : ''}`;
  if (a.dueAt !== null) return l10n.t('$(clock) next {0}', relativeTime(a.dueAt, now));
  if (a.trigger.kind === 'after') return l10n.t('$(watch) after its upstreams, in their flow');
  return `$(watch) ${describeTrigger(a.trigger)}`;
}

/** The hover on a cron value: its next runs, or why it has none. */
export function cronHover(cron: string, tz: string | undefined, now: number, count = 5): string {
  try {
    const runs = validateCron(cron, tz, now, count);
    const fmt = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', ...(tz ? { timeZone: tz } : {}) });
    return [tz ? l10n.t('**Next {0} runs** of `{1}` ({2}):', runs.length, cron, tz) : l10n.t('**Next {0} runs** of `{1}`:', runs.length, cron), '', ...runs.map((t) => `- ${fmt.format(new Date(t))} — ${relativeTime(t, now)}`)].join('\n');
  } catch (err) {
    return `$(error) ${(err as Error).message}`;
  }
}
