// The one owner of lifetimes. The extension's own (commands, views, listeners) lives in
// `subscriptions`; each folder's orchestrator run lives in `hosts`, restarted when settings
// that need it change, started when the workspace is trusted, stopped on deactivate.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { LifecycleEvent } from '../core/model';
import { sdlcPaths } from '../core/paths';
import { ProcessRunner } from '../core/processRunner';
import type { RunRow } from '../core/store/store';
import { FolderHost } from './folderHost';
import { channelLogger } from './log';
import { Onboarding } from './onboarding';
import { buildTree, healthLines, type FolderView, type TreeNode } from './model/treeModel';
import type { StatusState } from './model/statusModel';
import { RUN_SCHEME, RunOutputProvider, runUri } from './runOutput';
import { DELIVERY_SCHEME, DeliveryProvider, deliveryUri } from './deliveryDocument';
import { TASK_TYPE, TaskRunner } from './runners/taskRunner';
import { TerminalRunner } from './runners/terminalRunner';
import { Settings } from './settings';
import { StatusBar } from './statusBar';
import { OrchestratorTree } from './treeView';
import { PanelManager } from './panel';
import { ActionsFileSupport, actionsFileOf } from './actionsFileSupport';
import { GithubExportSupport } from './githubExport';
import { Approvals } from './approvals';

export class Ctx implements vscode.Disposable {
  readonly subscriptions: vscode.Disposable[] = [];
  readonly hosts = new Map<string, FolderHost>();

  /** A task ended: the folder it belongs to (every folder, for a workspace task) hears of it for its after-task actions. */
  private taskEnded(e: vscode.TaskProcessEndEvent): void {
    const task = e.execution.task;
    if (task.definition.type === TASK_TYPE) return; // our own shell-command runs are not tasks.json tasks
    const scope = typeof task.scope === 'object' ? (task.scope as vscode.WorkspaceFolder).uri.fsPath : undefined;
    for (const [folder, host] of this.hosts) {
      if (scope !== undefined && scope !== folder) continue;
      void host.orchestrator?.taskEnded(task.name, e.exitCode).catch((err) => this.log.warn(`after-task "${task.name}" in ${folder}: ${(err as Error).message}`));
    }
  }
  readonly settings = new Settings();
  readonly channel = vscode.window.createOutputChannel('SDLC Orchestrator', { log: true });
  readonly log: Logger = channelLogger(this.channel);
  private readonly terminalRunner = new TerminalRunner();
  private readonly runners = { task: new TaskRunner(), terminal: this.terminalRunner, process: new ProcessRunner() };
  readonly onboarding: Onboarding;
  readonly tree = new OrchestratorTree(
    () => this.buildTree(),
    (node) => {
      const h = node.actionId ? this.hosts.get(node.folder ?? '')?.orchestrator?.health(node.actionId) : undefined;
      return h && healthLines(h);
    },
  );
  private readonly statusBar = new StatusBar();
  private treeView: vscode.TreeView<TreeNode> | undefined;
  private panelManager: PanelManager | undefined;
  private lastTreeRefresh = 0;
  readonly approvals: Approvals;
  private actionsFileSupport: ActionsFileSupport | undefined;
  private githubExportSupport: GithubExportSupport | undefined;
  /** Folders whose waiting approvals were looked at since their orchestrator started. */
  private readonly reviewed = new Set<string>();

  constructor(readonly extension: vscode.ExtensionContext) {
    this.onboarding = new Onboarding(extension);
    this.subscriptions.push(this.channel, this.tree, this.statusBar, this.onboarding);
    this.approvals = new Approvals(extension.globalStorageUri);
  }

  get actionsFile(): ActionsFileSupport {
    return this.actionsFileSupport!;
  }

  get githubExport(): GithubExportSupport {
    return this.githubExportSupport!;
  }

  activate(): void {
    // Registered during activation so a panel left open is revived after a window reload.
    this.panelManager = new PanelManager(this);
    this.actionsFileSupport = new ActionsFileSupport(this);
    this.githubExportSupport = new GithubExportSupport(this);
    this.subscriptions.push(this.panelManager, this.actionsFileSupport, this.githubExportSupport);
    this.onboarding.openOnFirstRun(this.settings.openWalkthroughOnFirstRun);
    this.actionsFileSupport.onDidChangeProblems(() => this.renderStatus(), null, this.subscriptions);
    this.treeView = vscode.window.createTreeView('sdlc.orchestrator', { treeDataProvider: this.tree, showCollapseAll: true });
    this.subscriptions.push(
      this.treeView,
      // Opening the view is a use of the product: start the folders' orchestrators.
      this.treeView.onDidChangeVisibility((e) => e.visible && void this.startAll()),
      vscode.workspace.registerTextDocumentContentProvider(RUN_SCHEME, new RunOutputProvider((folder, runId) => this.findRun(folder, runId))),
      vscode.workspace.registerTextDocumentContentProvider(DELIVERY_SCHEME, new DeliveryProvider((folder) => this.hosts.get(folder)?.orchestrator)),
      // A notification's link (vscode://sdlc-orchestrator.sdlc-orchestrator/run?folder=…&run=…) opens its run.
      vscode.window.registerUriHandler({ handleUri: (uri) => void this.openLink(uri) }),
    );
    vscode.tasks.onDidEndTaskProcess((e) => this.taskEnded(e), null, this.subscriptions);
    vscode.workspace.onDidChangeWorkspaceFolders(() => void this.syncFolders(), null, this.subscriptions);
    vscode.workspace.onDidGrantWorkspaceTrust(() => void this.startAll(), null, this.subscriptions);
    vscode.workspace.onDidChangeConfiguration(
      (e) => {
        if (this.settings.needsRestart(e)) void this.restart();
      },
      null,
      this.subscriptions,
    );
    this.syncFolders();
    this.actionsFileSupport.scanFolders([...this.hosts.keys()]);
    this.renderStatus();
    // A folder that already has a database or an actions file starts at once; others when the user first asks.
    if (vscode.workspace.isTrusted) {
      for (const host of this.hosts.values()) {
        const folder = host.folder.uri.fsPath;
        if (fs.existsSync(sdlcPaths(folder).db) || fs.existsSync(actionsFileOf(folder))) void host.start().catch(() => undefined);
      }
    }
    if (this.treeView.visible) void this.startAll();
  }

  /** Follows a link from outside: it only ever shows something, never runs anything. */
  private async openLink(uri: vscode.Uri): Promise<void> {
    const q = new URLSearchParams(uri.query);
    const folder = q.get('folder') ?? '';
    const runId = q.get('run') ?? '';
    if (uri.path !== '/run' || !folder || !runId) {
      void vscode.window.showWarningMessage(vscode.l10n.t('SDLC Orchestrator cannot open this link ({0}); its links open a run: /run?folder=…&run=…', uri.path));
      return;
    }
    const host = this.hosts.get(folder);
    if (!host) {
      const choice = await vscode.window.showInformationMessage(vscode.l10n.t('That run is in {0}, which is not open in this window.', folder), vscode.l10n.t('Open Folder'));
      if (choice) await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(folder), { forceNewWindow: true });
      return;
    }
    if (vscode.workspace.isTrusted) await host.start().catch(() => undefined);
    const run = host.orchestrator?.store.getRun(runId);
    if (!run) {
      void vscode.window.showWarningMessage(vscode.l10n.t("Run {0} is not in {1}'s history any more (retention removes old runs).", runId, host.folder.name));
      return;
    }
    this.panels.open({ folder, actionId: run.actionId, runId });
  }

  get panels(): PanelManager {
    return this.panelManager!;
  }

  /** The row a click command is about (click commands carry no arguments; see treeView.ts). */
  get selectedNode(): TreeNode | undefined {
    return this.treeView?.selection[0];
  }

  get wasmPath(): string {
    return path.join(this.extension.extensionPath, 'dist', 'sql-wasm.wasm');
  }

  /** Keeps one host per workspace folder (multi-root workspaces get one each). */
  private syncFolders(): void {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const keep = new Set(folders.map((f) => f.uri.fsPath));
    for (const [key, host] of this.hosts) {
      if (!keep.has(key)) {
        host.dispose();
        this.hosts.delete(key);
      }
    }
    for (const folder of folders) {
      if (folder.uri.scheme !== 'file' || this.hosts.has(folder.uri.fsPath)) continue;
      // A flow step's kept worktree, opened to look at what it saw: its actions file is the
      // repository's, and must not start a second orchestrator running the same automation.
      if (/[\\/]\.sdlc[\\/]worktrees[\\/][^\\/]+$/.test(folder.uri.fsPath)) {
        this.log.info(`${folder.name}: a flow step's worktree; nothing is orchestrated here`);
        continue;
      }
      const host = new FolderHost(folder, this.settings, channelLogger(this.channel, folder.name), this.runners, this.wasmPath, this.approvals.isApproved(folder.uri.fsPath));
      host.onDidChange(() => {
        this.tree.refresh();
        this.actionsFileSupport?.refreshLenses();
        // Once per start: actions that were waiting for approval before it are asked about.
        if (host.started && !this.reviewed.has(folder.uri.fsPath)) {
          this.reviewed.add(folder.uri.fsPath);
          void this.approvals.review(host);
        }
        if (!host.started) this.reviewed.delete(folder.uri.fsPath);
      });
      host.onDidTick(() => this.onTick());
      host.onDidCommitEvents((events) => {
        this.notifyFailures(host, events);
        // A file action that now waits for approval (new, or its command changed): ask.
        if (events.some((e) => (e.data.state as { gated?: boolean } | undefined)?.gated)) void this.approvals.review(host);
      });
      this.hosts.set(folder.uri.fsPath, host);
    }
    this.tree.refresh();
  }

  /** Starts every folder's orchestrator, unless the workspace is not trusted. */
  async startAll(): Promise<void> {
    if (!vscode.workspace.isTrusted) {
      this.tree.refresh();
      this.renderStatus();
      return;
    }
    await Promise.all([...this.hosts.values()].map((h) => h.start().catch(() => undefined)));
    this.renderStatus();
  }

  async restart(): Promise<void> {
    this.log.info('settings changed: restarting the orchestrators');
    const started = [...this.hosts.values()].filter((h) => h.started);
    await Promise.all(started.map((h) => h.stop()));
    await Promise.all(started.map((h) => h.start().catch(() => undefined)));
  }

  /**
   * The host to act on: the one for `folder`, the only one, or the user's pick. Starts it.
   * Undefined (with a message) when nothing may run here.
   */
  async hostFor(folder?: string): Promise<FolderHost | undefined> {
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage(vscode.l10n.t('This workspace is not trusted, so SDLC Orchestrator runs nothing here.'), vscode.l10n.t('Manage Workspace Trust'));
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    let host = folder ? this.hosts.get(folder) : undefined;
    if (!host) {
      const hosts = [...this.hosts.values()];
      if (hosts.length === 0) {
        void vscode.window.showWarningMessage(vscode.l10n.t('Open a folder first: SDLC Orchestrator works on a workspace folder.'));
        return undefined;
      }
      if (hosts.length === 1) host = hosts[0];
      else {
        const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder: vscode.l10n.t('Which folder?') });
        host = picked && this.hosts.get(picked.uri.fsPath);
      }
    }
    if (!host) return undefined;
    try {
      await host.start();
    } catch (err) {
      void vscode.window.showErrorMessage(vscode.l10n.t('SDLC Orchestrator could not start for {0}: {1}', host.folder.name, (err as Error).message), vscode.l10n.t('Show Log')).then((a) => a && this.channel.show());
      return undefined;
    }
    return host;
  }

  findRun(folder: string, runId: string): RunRow | undefined {
    try {
      return this.hosts.get(folder)?.orchestrator?.store.getRun(runId);
    } catch {
      return undefined;
    }
  }

  async showRunOutput(folder: string, run: { runId: string; name: string }): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(runUri(folder, run));
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  async showDelivery(folder: string, d: { id: string; hook: string }): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(deliveryUri(folder, d));
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  private buildTree(): TreeNode[] {
    const untrusted = !vscode.workspace.isTrusted;
    // The view's message wraps, where a row would be cut off in a narrow sidebar.
    if (this.treeView) this.treeView.message = untrusted ? vscode.l10n.t('This workspace is not trusted, so SDLC Orchestrator runs nothing here. Trust the folder to start it.') : undefined;
    const views: FolderView[] = [...this.hosts.values()].map((h) =>
      h.view(
        100,
        untrusted
          ? { text: vscode.l10n.t('Workspace not trusted: nothing runs here. Click to manage trust.'), icon: 'workspace-untrusted', command: 'workbench.trust.manage' }
          : !h.started && !h.error
            ? { text: vscode.l10n.t('Not started. Schedule Action adds work.'), icon: 'circle-outline', command: 'sdlc.scheduleAction' }
            : undefined,
      ),
    );
    this.lastTreeRefresh = Date.now();
    this.onboarding.update(views, (folder) => this.actionsFileSupport?.fileOf(folder) !== undefined);
    // Nothing here yet: the view's welcome content (package.json viewsWelcome) teaches the first steps.
    const starting = (v: FolderView) => !v.notice || v.notice.icon === 'circle-outline' || v.notice.icon === 'loading~spin';
    if (!untrusted && views.length && views.every((v) => !v.actions.length && !v.history.length && !v.deliveries.length && starting(v))) return [];
    return buildTree(views, Date.now());
  }

  private onTick(): void {
    this.renderStatus();
    // Relative times ("in 3 min") age: refresh the visible tree now and then, not every tick.
    if (this.treeView?.visible && Date.now() - this.lastTreeRefresh > 10_000) this.tree.refresh();
  }

  /** Folds every folder's state into the one value the status bar renders. */
  statusState(): StatusState {
    if (!vscode.workspace.isTrusted) return { kind: 'untrusted' };
    const hosts = [...this.hosts.values()];
    const failed = hosts.find((h) => h.error);
    if (failed) return { kind: 'error', message: `${failed.folder.name}: ${failed.error}` };
    // An actions file with problems: nothing from it applies until fixed, so say so where it shows.
    const invalid = this.actionsFileSupport?.problems()[0];
    if (invalid) return { kind: 'invalidFile', folder: path.basename(invalid.folder), count: invalid.count, first: invalid.first };
    const statuses = hosts.filter((h) => h.orchestrator).map((h) => h.lastStatus ?? h.orchestrator!.status());
    if (!statuses.length) return { kind: 'inactive' };
    const sum = (f: (s: (typeof statuses)[number]) => number) => statuses.reduce((n, s) => n + f(s), 0);
    const running = sum((s) => s.counts.running ?? 0);
    const queued = sum((s) => (s.counts.scheduled ?? 0) + (s.counts.retrying ?? 0) + (s.counts.waiting ?? 0) + (s.counts.paused ?? 0));
    const owned = statuses.filter((s) => s.role === 'owner');
    if (!owned.length) {
      const owner = statuses.find((s) => s.owner)?.owner;
      return { kind: 'following', owner: owner ? vscode.l10n.t('{0}, pid {1}', owner.label, owner.pid) : vscode.l10n.t('another window'), running, queued };
    }
    if (owned.every((s) => s.paused)) return { kind: 'paused', queued };
    const dues = owned.map((s) => s.nextDueAt).filter((t): t is number => t !== null);
    return {
      kind: 'ticking',
      tick: owned[0].ticks,
      tickMs: owned[0].tickMs,
      lastTickMs: Math.max(...owned.map((s) => s.lastTickMs)),
      running,
      queued,
      nextDueAt: dues.length ? Math.min(...dues) : null,
      folders: statuses.length,
    };
  }

  renderStatus(): void {
    this.statusBar.render(this.statusState());
  }

  /** Tells the user when a run fails for good (not when a retry follows), if they want that. */
  private notifyFailures(host: FolderHost, events: LifecycleEvent[]): void {
    if (!this.settings.notifyOnFailure || host.orchestrator?.currentRole !== 'owner') return;
    for (const e of events) {
      if (e.type !== 'task.failed' || !e.runId) continue;
      if (events.some((x) => x.type === 'task.retried' && x.runId === e.runId)) continue;
      const run = this.findRun(host.folder.uri.fsPath, e.runId);
      if (!run) continue;
      const showOutput = vscode.l10n.t('Show Output');
      const rerun = vscode.l10n.t('Re-run');
      void vscode.window.showErrorMessage(vscode.l10n.t('SDLC: "{0}" failed: {1}', run.name, run.reason ?? vscode.l10n.t('unknown reason')), showOutput, rerun).then(async (choice) => {
        if (choice === showOutput) await this.showRunOutput(host.folder.uri.fsPath, run);
        if (choice === rerun) await host.orchestrator?.runNow(run.actionId).catch((err: Error) => vscode.window.showErrorMessage(err.message));
      });
    }
  }

  /** Deactivation: each folder's tick in flight finishes, its state is durable, its lease released. */
  async stop(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.stop()));
  }

  dispose(): void {
    for (const h of this.hosts.values()) h.dispose();
    this.hosts.clear();
    this.terminalRunner.dispose();
    this.subscriptions.forEach((d) => d.dispose());
  }
}
