// Per action of the actions file: is it exported to GitHub Actions, and is the export current?
// The export is computed (it is pure and takes milliseconds) and compared with the workflows on
// disk, exactly as `sdlc-orchestrator export github-actions --check` compares them.
import * as path from 'path';
import type { ParsedActionsFile } from '../../core/definitions/actionsFile';
import { exportGithubActionsSliced } from '../../core/export/githubActions';
import { planWorkflowsAsync, DEFAULT_WORKFLOWS_DIR } from '../../core/export/workflowFiles';
import type { ExportState } from '../../../webview/protocol';

/**
 * By action name; empty while the file has problems (nothing from it is applied then either).
 * Runs on the extension host in slices, with the files read asynchronously.
 */
export async function exportStates(parsed: ParsedActionsFile | undefined, folder: string, now: number): Promise<Record<string, ExportState>> {
  if (!parsed || parsed.problems.length || !parsed.actions.length) return {};
  const exp = await exportGithubActionsSliced(parsed, { now });
  const dir = path.join(folder, DEFAULT_WORKFLOWS_DIR);
  const out: Record<string, ExportState> = {};
  for (const c of await planWorkflowsAsync(dir, exp.workflows)) {
    const workflow = path.join(DEFAULT_WORKFLOWS_DIR, c.file).split(path.sep).join('/');
    const state: ExportState['state'] = c.status === 'unchanged' ? 'exported' : c.status === 'update' ? 'stale' : c.status === 'conflict' ? 'conflict' : 'missing';
    for (const name of c.actions) out[name] = { state, workflow };
  }
  for (const name of exp.skipped) out[name] = { state: 'unsupported', reason: exp.warnings.find((w) => w.action === name && /not exported/.test(w.message))?.message };
  return out;
}
