// `sdlc-orchestrator export github-actions`: the actions file as GitHub Actions workflows,
// linted by actionlint before anything is written; `--check` for a CI step that fails when the
// committed workflows are not what the actions file says.
import * as fs from 'fs';
import * as path from 'path';
import { ACTIONS_FILE } from '../core/definitions/keys';

export interface ExportArgs {
  workspace: string;
  target: string | undefined;
  out?: string;
  check?: boolean;
  json?: boolean;
}

const TARGETS = ['github-actions'];

/** Exit 0: written (or, with --check, up to date); 1: --check found a difference; 2: nothing written, and why. */
export async function exportCommand(args: ExportArgs, write: (text: string) => void, warn: (text: string) => void): Promise<number> {
  if (args.target === undefined || !TARGETS.includes(args.target)) {
    warn(`sdlc-orchestrator: say what to export to: export ${TARGETS.join(' | ')}${args.target !== undefined ? ` (got "${args.target}")` : ''}\n`);
    return 2;
  }
  const { readActionsFile } = await import('../core/definitions/actionsFileSource');
  const { problemText } = await import('../core/definitions/actionsFile');
  const { exportGithubActions } = await import('../core/export/githubActions');
  const { planWorkflows, applyWorkflows, conflictText, pending, DEFAULT_WORKFLOWS_DIR } = await import('../core/export/workflowFiles');
  const { lintWorkflows } = await import('../core/export/lint');

  const file = path.join(args.workspace, '.sdlc', ACTIONS_FILE);
  const shown = path.relative(process.cwd(), file) || file;
  if (!fs.existsSync(file)) {
    warn(`sdlc-orchestrator: ${shown} does not exist; there is nothing to export (define actions there first)\n`);
    return 2;
  }
  // The file is written for the editor, where `task:` needs no runner of its own.
  const parsed = await readActionsFile(file, { now: Date.now(), defaultRunner: 'task' });
  if (parsed.problems.length) {
    warn(parsed.problems.map((p) => `${problemText(p, shown)}\n`).join(''));
    warn(`sdlc-orchestrator: ${shown} has ${parsed.problems.length} problem(s); nothing was exported\n`);
    return 2;
  }
  const dir = args.out ? path.resolve(args.out) : path.join(args.workspace, DEFAULT_WORKFLOWS_DIR);
  const dirShown = path.relative(process.cwd(), dir) || dir;
  const exp = exportGithubActions(parsed, { now: Date.now() });
  // --check compares only; what export would write is linted when it is written.
  const findings = args.check ? [] : await lintWorkflows(exp.workflows, dirShown);
  if (findings.length) {
    warn(findings.map((f) => `${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]\n`).join(''));
    warn(`sdlc-orchestrator: the generated workflows do not pass actionlint; nothing was written. Please report this with the lines above.\n`);
    return 2;
  }
  const changes = planWorkflows(dir, exp.workflows);
  const conflicts = changes.filter((c) => c.status === 'conflict');
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  if (args.check) {
    const stale = pending(changes);
    if (args.json) write(`${JSON.stringify({ upToDate: stale.length === 0, changes: changes.map((c) => ({ file: rel(c.path), status: c.status, actions: c.actions })) })}\n`);
    else if (stale.length) {
      for (const c of stale) write(`${c.status === 'create' ? 'missing' : c.status === 'remove' ? 'left over' : c.status === 'conflict' ? 'not ours' : 'stale'}: ${rel(c.path)}\n`);
      write(`the workflows in ${dirShown} are not what ${shown} says; run \`sdlc-orchestrator export github-actions\` and commit them\n`);
    } else write(`${dirShown}: ${changes.length} workflow(s) up to date with ${shown}\n`);
    return stale.length ? 1 : 0;
  }
  if (conflicts.length) {
    warn(`sdlc-orchestrator: ${conflictText(conflicts.map((c) => ({ ...c, path: rel(c.path) })))}\n`);
    return 2;
  }
  applyWorkflows(dir, changes);
  if (args.json) {
    write(`${JSON.stringify({ changes: changes.map((c) => ({ file: rel(c.path), status: c.status, actions: c.actions })), warnings: exp.warnings, skipped: exp.skipped })}\n`);
  } else {
    for (const w of exp.warnings) warn(`${shown}:${w.line}:${w.column}: warning: ${w.action}: ${w.message}\n`);
    for (const c of changes) write(`${{ create: 'wrote', update: 'updated', unchanged: 'unchanged', remove: 'removed', conflict: 'conflict' }[c.status]}: ${rel(c.path)}${c.actions.length ? ` (${c.actions.join(', ')})` : ''}\n`);
    if (!changes.length) write(`${shown} defines no action to export\n`);
  }
  return 0;
}
