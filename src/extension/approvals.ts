// Consent for commands from a committed actions file. The first time a folder's file is seen,
// and whenever a command, cwd or env in it changes, the user sees exactly what would run and
// decides. Approvals are kept per machine in the extension's global storage (never in the
// repository), keyed by the content approved; until then those actions never run.
import * as path from 'path';
import * as vscode from 'vscode';
import { approvalKeyOf, type FileAction } from '../core/definitions/actionsFile';
import { ApprovalLedger } from '../core/definitions/approvals';
import { displayText } from '../core/displayText';
import type { Action } from '../core/model';
import type { FolderHost } from './folderHost';

export class Approvals {
  private readonly ledger: ApprovalLedger;
  /** Per folder: the set of keys last asked about, so "Not now" is not asked again until something changes. */
  private readonly asked = new Map<string, string>();
  private asking = false;

  constructor(storage: vscode.Uri) {
    this.ledger = new ApprovalLedger(path.join(storage.fsPath, 'approved-commands.json'));
  }

  /** The engine's question, answered from this machine's approvals. */
  isApproved(folder: string): (a: FileAction) => boolean {
    return (a) => this.ledger.has(folder, a.approvalKey);
  }

  /** File actions of this folder that wait for approval. */
  pending(host: FolderHost): Action[] {
    try {
      return host.orchestrator?.listActions().filter((a) => a.source === 'file' && a.needsApproval) ?? [];
    } catch {
      return [];
    }
  }

  /**
   * Asks about what waits for approval, once per distinct set of commands (or again when
   * `explicit`: the user asked to review). Approving releases the actions at once.
   */
  async review(host: FolderHost, explicit = false): Promise<void> {
    const waiting = this.pending(host);
    const folder = host.folder.uri.fsPath;
    if (!waiting.length) {
      if (explicit) void vscode.window.showInformationMessage(vscode.l10n.t("Every command in {0}'s actions file is approved on this machine.", host.folder.name));
      return;
    }
    const keys = [...new Set(waiting.map((a) => approvalKeyOf(a.run)))].sort().join(',');
    if (this.asking || (!explicit && this.asked.get(folder) === keys)) return;
    this.asked.set(folder, keys);
    this.asking = true;
    try {
      const detail = [
        vscode.l10n.t('Commands from a file in the repository run only once you allow them. They would run as:'),
        '',
        ...waiting.map((a) => `• ${displayText(a.name)}: ${displayText(a.run.task ? `task "${a.run.task}"` : a.run.command)}${a.run.cwd ? `  (in ${displayText(a.run.cwd)})` : ''}${a.run.env ? `  env: ${displayText(Object.keys(a.run.env).join(', '))}` : ''}`),
        '',
        vscode.l10n.t('Your approval is kept on this machine only, for exactly these commands; a change to one asks again.'),
      ].join('\n');
      const allow = vscode.l10n.t('Allow');
      const openFile = vscode.l10n.t('Open Actions File');
      const choice = await vscode.window.showWarningMessage(
        waiting.length === 1
          ? vscode.l10n.t('.sdlc/actions.yaml in {0} wants to run a command on this machine.', host.folder.name)
          : vscode.l10n.t('.sdlc/actions.yaml in {0} wants to run {1} commands on this machine.', host.folder.name, waiting.length),
        { modal: true, detail },
        allow,
        openFile,
      );
      if (choice === openFile) {
        await vscode.window.showTextDocument(vscode.Uri.file(path.join(folder, '.sdlc', 'actions.yaml')));
        return;
      }
      if (choice !== allow) return;
      await this.approve(host, waiting);
    } finally {
      this.asking = false;
    }
  }

  /** Records the approval on this machine and releases the actions waiting for it. */
  async approve(host: FolderHost, actions: Pick<Action, 'name' | 'run'>[]): Promise<void> {
    const folder = host.folder.uri.fsPath;
    const entries = actions.map((a) => ({ key: approvalKeyOf(a.run), name: a.name, command: a.run.command }));
    this.ledger.add(folder, entries);
    const orch = host.orchestrator;
    if (orch) await orch.request({ op: 'approve', keys: entries.map((e) => e.key) });
  }

  /** Approves a command the user wrote themselves (Schedule Action into the file). */
  approveOwn(folder: string, a: { name: string; run: { command: string; task?: string; cwd?: string; env?: Record<string, string> } }): void {
    this.ledger.add(folder, [{ key: approvalKeyOf(a.run), name: a.name, command: a.run.command }]);
  }
}
