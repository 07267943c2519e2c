// Export Actions to GitHub Actions, in VS Code: the same export as the command line, linted by
// actionlint, shown as a diff of each changed workflow before anything is written; and, per
// action, whether its export is current (for the panel), kept up to date as the actions file
// and the workflows change.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { problemText } from '../core/definitions/actionsFile';
import { readActionsFile } from '../core/definitions/actionsFileSource';
import { exportGithubActionsSliced } from '../core/export/githubActions';
import { lintWorkflows } from '../core/export/lint';
import { applyWorkflows, conflictText, DEFAULT_WORKFLOWS_DIR, pending, planWorkflowsAsync, type WorkflowChange } from '../core/export/workflowFiles';
import type { ExportState } from '../../webview/protocol';
import { actionsFileOf } from './actionsFileSupport';
import type { Ctx } from './ctx';
import { exportStates } from './model/exportState';

const SCHEME = 'sdlc-export';
const verb = (s: WorkflowChange['status']): string =>
  ({ create: vscode.l10n.t('new'), update: vscode.l10n.t('changed'), remove: vscode.l10n.t('removed'), unchanged: vscode.l10n.t('unchanged'), conflict: vscode.l10n.t('written by hand') })[s];

export class GithubExportSupport implements vscode.Disposable {
  private readonly states = new Map<string, Record<string, ExportState>>();
  private readonly changed = new vscode.EventEmitter<string>();
  /** A folder's export states changed. */
  readonly onDidChange = this.changed.event;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly generation = new Map<string, number>();
  /** What the diff's right side shows, by its URI. */
  private readonly proposed = new Map<string, string>();
  private readonly disposables: vscode.Disposable[] = [this.changed];

  constructor(private readonly ctx: Ctx) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/.github/workflows/sdlc-*.{yml,yaml}');
    const touched = (uri: vscode.Uri) => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      if (folder) this.refreshSoon(folder.uri.fsPath);
    };
    this.disposables.push(
      watcher,
      watcher.onDidCreate(touched),
      watcher.onDidChange(touched),
      watcher.onDidDelete(touched),
      ctx.actionsFile.onDidParse((folder) => this.refreshSoon(folder)),
      vscode.workspace.registerTextDocumentContentProvider(SCHEME, { provideTextDocumentContent: (uri) => this.proposed.get(uri.toString()) ?? '' }),
    );
  }

  /** File actions of the folder by name, as exported; empty until the file is read. */
  statesOf(folder: string): Record<string, ExportState> {
    return this.states.get(folder) ?? {};
  }

  /** Coalesced: a save of the file and of a workflow together is one comparison; a newer one overtakes it. */
  private refreshSoon(folder: string): void {
    clearTimeout(this.timers.get(folder));
    this.timers.set(
      folder,
      setTimeout(() => {
        this.timers.delete(folder);
        const n = (this.generation.get(folder) ?? 0) + 1;
        this.generation.set(folder, n);
        exportStates(this.ctx.actionsFile.fileOf(folder), folder, Date.now()).then(
          (next) => {
            if (this.generation.get(folder) !== n || JSON.stringify(next) === JSON.stringify(this.states.get(folder) ?? {})) return;
            this.states.set(folder, next);
            this.changed.fire(folder);
          },
          (err) => this.ctx.log.warn(`comparing the GitHub Actions export of ${folder}: ${(err as Error).message}`),
        );
      }, 300),
    );
  }

  /** The command: export the folder's actions file, after the user has seen each change. */
  async export(folder: string): Promise<void> {
    const file = actionsFileOf(folder);
    const shown = path.join('.sdlc', 'actions.yaml');
    if (!fs.existsSync(file)) {
      void vscode.window.showInformationMessage(vscode.l10n.t('There is no {0} in this folder to export. Move an action there first (Move to Actions File), or write one.', shown));
      return;
    }
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
    if (open?.isDirty) {
      const save = await vscode.window.showWarningMessage(vscode.l10n.t('{0} has unsaved changes. The export is of the saved file.', shown), { modal: true }, vscode.l10n.t('Save and Export'));
      if (!save || !(await open.save())) return;
    }
    const parsed = await readActionsFile(file, { now: Date.now(), defaultRunner: this.ctx.settings.defaultRunner });
    if (parsed.problems.length) {
      const choice = await vscode.window.showErrorMessage(
        vscode.l10n.t('{0} has {1} problem(s), so nothing was exported. {2}', shown, parsed.problems.length, problemText(parsed.problems[0], shown)),
        vscode.l10n.t('Show Problems'),
      );
      if (choice) void vscode.commands.executeCommand('workbench.actions.view.problems');
      return;
    }
    const exp = await exportGithubActionsSliced(parsed, { now: Date.now() });
    const dirLabel = DEFAULT_WORKFLOWS_DIR.split(path.sep).join('/');
    const wasm = path.join(this.ctx.extension.extensionPath, 'dist', 'actionlint.wasm');
    const findings = await lintWorkflows(exp.workflows, dirLabel, fs.existsSync(wasm) ? wasm : undefined);
    if (findings.length) {
      for (const f of findings) this.ctx.log.error(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
      void vscode.window.showErrorMessage(vscode.l10n.t('The generated workflows do not pass actionlint ({0} finding(s), in the log); nothing was written.', findings.length), vscode.l10n.t('Show Log')).then((c) => c && this.ctx.channel.show());
      return;
    }
    for (const w of exp.warnings) this.ctx.log.warn(`${shown}:${w.line}:${w.column}: export to GitHub Actions: ${w.action}: ${w.message}`);
    const dir = path.join(folder, DEFAULT_WORKFLOWS_DIR);
    const changes = await planWorkflowsAsync(dir, exp.workflows);
    const conflicts = changes.filter((c) => c.status === 'conflict');
    if (conflicts.length) {
      void vscode.window.showErrorMessage(conflictText(conflicts.map((c) => ({ ...c, path: path.join(dirLabel, c.file) }))));
      return;
    }
    const todo = pending(changes);
    if (!todo.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('The GitHub Actions workflows in {0} are up to date with {1} ({2} workflow(s)).', dirLabel, shown, changes.length));
      return;
    }
    // Each change side by side with what is there now, before anything is written.
    this.proposed.clear();
    for (const c of todo) {
      const right = vscode.Uri.from({ scheme: SCHEME, path: `/${dirLabel}/${c.file}`, query: `proposed&${Date.now()}` });
      const empty = vscode.Uri.from({ scheme: SCHEME, path: `/${dirLabel}/${c.file}`, query: `empty&${Date.now()}` });
      this.proposed.set(right.toString(), c.content ?? '');
      this.proposed.set(empty.toString(), '');
      const left = c.status === 'create' ? empty : vscode.Uri.file(c.path);
      await vscode.commands.executeCommand('vscode.diff', left, c.status === 'remove' ? empty : right, vscode.l10n.t('{0} ({1}): export preview', c.file, verb(c.status)), { preview: false });
    }
    const list = todo.map((c) => `${verb(c.status)}: ${dirLabel}/${c.file}${c.actions.length ? ` (${c.actions.join(', ')})` : ''}`).join('\n');
    const notes = exp.warnings.length ? `\n\n${vscode.l10n.t("{0} difference(s) from running in the editor are listed in each workflow's header and in the log.", exp.warnings.length)}` : '';
    const writeLabel = vscode.l10n.t('Write');
    const write = await vscode.window.showInformationMessage(vscode.l10n.t('Write {0} GitHub Actions workflow file(s)?', todo.length), { modal: true, detail: `${list}${notes}` }, writeLabel);
    await this.closePreviews();
    if (write !== writeLabel) return;
    applyWorkflows(dir, changes);
    this.refreshSoon(folder);
    this.ctx.log.info(`exported ${shown} to ${dirLabel}: ${todo.map((c) => `${c.status} ${c.file}`).join(', ')}`);
    const open1 = todo.find((c) => c.status !== 'remove');
    const openLabel = vscode.l10n.t('Open Workflow');
    const diffLabel = vscode.l10n.t('Show Differences');
    const choice = await vscode.window.showInformationMessage(
      vscode.l10n.t('Exported to {0}: {1} workflow file(s) written. Commit them with {2}.', dirLabel, todo.length, shown),
      ...(open1 ? [openLabel] : []),
      ...(exp.warnings.length ? [diffLabel] : []),
    );
    if (choice === openLabel && open1) await vscode.window.showTextDocument(vscode.Uri.file(open1.path));
    if (choice === diffLabel) this.ctx.channel.show();
  }

  private async closePreviews(): Promise<void> {
    const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === SCHEME);
    if (tabs.length) await vscode.window.tabGroups.close(tabs);
    this.proposed.clear();
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    vscode.Disposable.from(...this.disposables).dispose();
  }
}
