// "Show Output": a read-only document with a run's details and the tail of its output.
import * as vscode from 'vscode';
import type { RunRow } from '../core/store/store';

export const RUN_SCHEME = 'sdlc-run';

export function runUri(folder: string, run: { runId: string; name: string }): vscode.Uri {
  return vscode.Uri.from({ scheme: RUN_SCHEME, path: `/${run.name.replace(/[\\/]/g, '_')}.log`, query: new URLSearchParams({ folder, run: run.runId }).toString() });
}

export function renderRun(r: RunRow): string {
  const lines = [
    `${r.name}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`,
    `exit code: ${r.exitCode ?? 'unknown'} · attempt ${r.attempt} · runner ${r.runner} · started by ${r.cause}`,
    `started ${new Date(r.startedAt).toISOString()}${r.endedAt !== null ? ` · ended ${new Date(r.endedAt).toISOString()} (${r.endedAt - r.startedAt} ms)` : ''}`,
    `run ${r.runId} of action ${r.actionId}`,
    '',
  ];
  if (r.outputTail) lines.push(r.outputTail);
  else if (r.runner === 'process') lines.push('(no output)');
  else lines.push(`(the ${r.runner} runner shows its output in the terminal panel: look for "${r.name}")`);
  return lines.join('\n');
}

export class RunOutputProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly findRun: (folder: string, runId: string) => RunRow | undefined) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    const q = new URLSearchParams(uri.query);
    const run = this.findRun(q.get('folder') ?? '', q.get('run') ?? '');
    return run ? renderRun(run) : 'This run is no longer in the history.';
  }
}
