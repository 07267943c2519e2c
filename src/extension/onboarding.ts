// Getting started: the walkthrough (package.json `walkthroughs`) opens once on the first run,
// and its steps complete by themselves from context keys set here as the user does each thing:
// an action scheduled, a run seen, the actions file created and then committed.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { actionsFileOf } from './actionsFileSupport';
import type { FolderView } from './model/treeModel';

export const WALKTHROUGH = 'gettingStarted';
const SHOWN_KEY = 'sdlc.walkthroughShown';
/** How often, at most, git is asked whether the actions file is committed. */
const GIT_CHECK_MS = 5000;

/** What the file starts with when a user creates it from the empty view or the walkthrough. */
export const ACTIONS_FILE_STARTER = `# Actions of this repository: reviewed and shared like the code.
# Each runs on a machine only after its user approved its command there.
# The keys are the command line's (run, cron, every, after, on-change, …); the YAML extension completes them.
version: 1
actions:
  tests:
    run: npm test
    manual: true          # or: cron: "0 3 * * 1-5", every: 30m, on-change: src/**/*.ts, on-git: commit
`;

/** Folds the folders' state into the walkthrough's context keys; each is set only when it changes. */
export class Onboarding implements vscode.Disposable {
  private readonly keys = new Map<string, boolean>();
  private gitCheckedAt = 0;
  private checking = false;

  constructor(private readonly context: vscode.ExtensionContext) {}

  /** Opens the walkthrough the first time the extension runs for this user (a setting turns it off). */
  openOnFirstRun(enabled: boolean): void {
    if (!enabled || this.context.globalState.get<boolean>(SHOWN_KEY)) return;
    void this.context.globalState.update(SHOWN_KEY, true);
    void vscode.commands.executeCommand('workbench.action.openWalkthrough', `${this.context.extension.id}#${WALKTHROUGH}`, false);
  }

  /**
   * Called with what the tree shows (after each change): the cheap keys at once, git now and then.
   * `hasFile` is what the actions-file support already knows (it watches the file): no stat here.
   */
  update(views: FolderView[], hasFile: (folder: string) => boolean): void {
    this.set('sdlcOrchestrator.hasAction', views.some((v) => v.actions.length > 0 || v.history.length > 0));
    this.set('sdlcOrchestrator.hasRun', views.some((v) => v.history.length > 0));
    const withFile = views.filter((v) => hasFile(v.path));
    this.set('sdlcOrchestrator.hasActionsFile', withFile.length > 0);
    if (withFile.length && !this.keys.get('sdlcOrchestrator.actionsFileCommitted')) void this.checkCommitted(withFile.map((v) => v.path));
  }

  private set(key: string, value: boolean): void {
    if (this.keys.get(key) === value) return;
    this.keys.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }

  /** Committed: git tracks the file and it has no change against HEAD. */
  private async checkCommitted(folders: string[]): Promise<void> {
    if (this.checking || Date.now() - this.gitCheckedAt < GIT_CHECK_MS) return;
    this.checking = true;
    this.gitCheckedAt = Date.now();
    try {
      for (const folder of folders) {
        const file = actionsFileOf(folder);
        const tracked = await git(['ls-files', '--error-unmatch', file], folder);
        const clean = tracked && (await git(['diff', '--quiet', 'HEAD', '--', file], folder));
        if (clean) return this.set('sdlcOrchestrator.actionsFileCommitted', true);
      }
    } finally {
      this.checking = false;
    }
  }

  dispose(): void {
    this.keys.clear();
  }
}

/** Whether a git command exits 0 (false when git or the repository is missing). */
function git(args: string[], cwd: string): Promise<boolean> {
  return new Promise((resolve) => execFile('git', args, { cwd, timeout: 10_000 }, (err) => resolve(!err)));
}

/** Creates `.sdlc/actions.yaml` with a starter (unless it exists) and opens it. */
export async function openActionsFile(folder: string): Promise<void> {
  const file = actionsFileOf(folder);
  if (!fs.existsSync(file)) {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, ACTIONS_FILE_STARTER, { flag: 'wx' }).catch(() => undefined);
  }
  await vscode.window.showTextDocument(vscode.Uri.file(file));
}
