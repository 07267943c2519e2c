// "Show Output": a read-only document with a run's details and the tail of its output.
import * as vscode from 'vscode';
import type { RunRow } from '../core/store/store';

export const RUN_SCHEME = 'sdlc-run';

export function runUri(folder: string, run: { runId: string; name: string }): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_SCHEME, path: `/${run.name.replace(/[\\/]/g, '_')}.log`, query: new URLSearchParams({ folder, run: run.runId }).toString() });
}

export function renderRun(r: RunRow): string {
  const lines = [
    r.reason ? `${r.name}: ${r.status} (${r.reason})` : `${r.name}: ${r.status}`,
    vscode.l10n.t('exit code: {0} · attempt {1} · runner {2} · started by {3}', r.exitCode ?? vscode.l10n.t('unknown'), r.attempt, r.runner, r.cause),
    r.endedAt !== null
      ? vscode.l10n.t('started {0} · ended {1} ({2} ms)', new Date(r.startedAt).toISOString(), new Date(r.endedAt).toISOString(), r.endedAt - r.startedAt)
      : vscode.l10n.t('started {0}', new Date(r.startedAt).toISOString()),
    vscode.l10n.t('run {0} of action {1}', r.runId, r.actionId),
    '',
  ];
  if (r.outputTail) lines.push(r.outputTail);
  else if (r.runner === 'process') lines.push(vscode.l10n.t('(no output)'));
  else lines.push(vscode.l10n.t('(the {0} runner shows its output in the terminal panel: look for "{1}")', r.runner, r.name));
  return lines.join('\n');
}

export class RunOutputProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly findRun: (folder: string, runId: string) => RunRow | undefined) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    const q = new URLSearchParams(uri.query);
    const run = this.findRun(q.get('folder') ?? '', q.get('run') ?? '');
    return run ? renderRun(run) : vscode.l10n.t('This run is no longer in the history.');
  }
}
