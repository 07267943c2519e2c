// The orchestrator panel's host: creates (or revives, after a window reload) the webview,
// answers its requests and pushes it each change from the engine's change feed. What is sent
// is computed in model/panelData.ts; the page itself is webview/ (bundled to dist/webview).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { redactTarget } from '../core/notify/notifySpec';
import { EMPTY_FILTER, GANTT_PAGE, HostEnd, PROTOCOL_VERSION, type Filter, type Handlers, type Snapshot, type Transport } from '../../webview/protocol';
import type { Ctx } from './ctx';
import type { FolderHost } from './folderHost';
import { checkForm, deliveryDetailsOf, deltaOf, detailsOf, historyPage, HISTORY_PAGE } from './model/panelData';

export const PANEL_VIEW_TYPE = 'sdlc.orchestratorPanel';

/** Opens a failed step's kept worktree in a new window, to look at what it saw. */
export async function openWorktree(worktree: string): Promise<void> {
  if (!fs.existsSync(worktree)) {
    void vscode.window.showWarningMessage(vscode.l10n.t('The worktree {0} is gone (retention removed it).', worktree));
    return;
  }
  await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(worktree), { forceNewWindow: true });
}
const FILTER_KEY = 'sdlc.panel.filter';

/** What the webview keeps with `setState`; VS Code hands it back to the serializer after a reload. */
interface SavedState {
  folder?: string;
}

/** What to show when the panel opens: an action, or one of its runs. */
export interface PanelFocus {
  folder: string;
  actionId: string;
  runId?: string;
  /** The details tab to show ('flow' for a flow run). */
  tab?: string;
}

/** Owns the one panel: opens it, reveals it, revives it after a reload. */
export class PanelManager implements vscode.Disposable {
  private current: OrchestratorPanel | undefined;
  private readonly registration: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.registration = vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: SavedState | undefined) => {
        this.adopt(panel, state?.folder);
      },
    });
  }

  /** Opens (or reveals) the panel; `focus` selects an action or run in it, once the page is ready. */
  open(focus?: PanelFocus): void {
    if (this.current) {
      this.current.panel.reveal();
      if (focus) this.current.focus(focus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, 'SDLC Orchestrator', vscode.ViewColumn.Active, panelOptions(this.ctx.extension.extensionUri));
    this.adopt(panel, focus?.folder);
    if (focus) this.current!.focus(focus);
  }

  get panel(): vscode.WebviewPanel | undefined {
    return this.current?.panel;
  }

  private adopt(panel: vscode.WebviewPanel, folder: string | undefined): void {
    this.current?.panel.dispose();
    const p = new OrchestratorPanel(panel, this.ctx, folder);
    this.current = p;
    panel.onDidDispose(() => {
      p.dispose();
      if (this.current === p) this.current = undefined;
    });
  }

  dispose(): void {
    this.registration.dispose();
    this.current?.panel.dispose();
  }
}

function panelOptions(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  // The page loads only its own bundle, stylesheet and icon font.
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')], enableFindWidget: true };
}

class OrchestratorPanel {
  private readonly end: HostEnd;
  private readonly disposables: vscode.Disposable[] = [];
  /** Pushes start after the page's `ready`: before it, nothing listens. */
  private ready = false;
  private folder: string | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly ctx: Ctx,
    folder: string | undefined,
  ) {
    this.folder = folder;
    const webview = panel.webview;
    webview.options = panelOptions(ctx.extension.extensionUri);
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'icon.png');
    webview.html = this.html(webview);
    const transport: Transport = {
      post: (m) => void webview.postMessage(m),
      listen: (handler) => {
        const d = webview.onDidReceiveMessage(handler);
        return () => d.dispose();
      },
    };
    this.end = new HostEnd(transport, this.handlers());
    for (const host of ctx.hosts.values()) this.watch(host);
    ctx.githubExport.onDidChange(
      (folder) => this.ready && folder === this.folder && this.end.push('exports', { folder, exports: ctx.githubExport.statesOf(folder) }),
      null,
      this.disposables,
    );
  }

  private pendingFocus: PanelFocus | undefined;

  /** Selects an action or run: at once when the page is up, else right after it says it is ready. */
  focus(f: PanelFocus): void {
    this.pendingFocus = f;
    if (!this.ready) return;
    this.pendingFocus = undefined;
    if (f.folder !== this.folder && this.ctx.hosts.has(f.folder)) {
      this.folder = f.folder;
      this.pushSnapshot();
    }
    this.end.push('select', f);
  }

  private get workspaceState(): vscode.Memento {
    return this.ctx.extension.workspaceState;
  }

  /** Each commit of the folder shown becomes one pushed delta; a restart, a new snapshot. */
  private watch(host: FolderHost): void {
    let orchestrator = host.orchestrator;
    host.onDidCommitEvents(
      (events) => {
        const orch = host.orchestrator;
        if (!this.ready || !orch || host.folder.uri.fsPath !== this.folder) return;
        const delta = deltaOf(orch, this.folder, events);
        if (delta) this.end.push('delta', delta);
        else this.pushSnapshot();
      },
      null,
      this.disposables,
    );
    host.onDidChange(
      () => {
        if (host.orchestrator === orchestrator) return;
        orchestrator = host.orchestrator;
        if (this.ready && host.folder.uri.fsPath === this.folder) this.pushSnapshot();
      },
      null,
      this.disposables,
    );
  }

  private pushSnapshot(): void {
    this.end.push('snapshot', this.snapshot());
  }

  private host(folder: string | undefined): FolderHost | undefined {
    return (folder && this.ctx.hosts.get(folder)) || [...this.ctx.hosts.values()][0];
  }

  private orch(folder: string) {
    const orch = this.ctx.hosts.get(folder)?.orchestrator;
    if (!orch) throw new Error(vscode.l10n.t('The orchestrator for this folder is not running.'));
    return orch;
  }

  private snapshot(): Snapshot {
    const host = this.host(this.folder);
    const filter = this.workspaceState.get<Filter>(FILTER_KEY) ?? EMPTY_FILTER;
    const base: Snapshot = {
      protocol: PROTOCOL_VERSION,
      folders: [...this.ctx.hosts.values()].map((h) => ({ path: h.folder.uri.fsPath, name: h.folder.name })),
      folder: host?.folder.uri.fsPath ?? '',
      paused: false,
      actions: [],
      history: [],
      historyComplete: true,
      deliveries: [],
      lastSeq: 0,
      filter,
      ...(vscode.l10n.bundle ? { l10n: vscode.l10n.bundle } : {}),
    };
    if (!host) return { ...base, notice: vscode.l10n.t('Open a folder: SDLC Orchestrator works on a workspace folder.') };
    this.folder = host.folder.uri.fsPath;
    if (!vscode.workspace.isTrusted) return { ...base, notice: vscode.l10n.t('This workspace is not trusted, so SDLC Orchestrator runs nothing here. Trust the folder to start it.') };
    const orch = host.orchestrator;
    if (!orch) return { ...base, notice: host.error ? vscode.l10n.t('Could not start: {0}', host.error) : vscode.l10n.t('Starting…') };
    const view = host.view(100); // the tree's limit: shares the tree's cached read
    const page = historyPage(orch, undefined, HISTORY_PAGE);
    return {
      ...base,
      following: view.following,
      paused: orch.paused,
      actions: orch.listActions(),
      history: page.runs,
      historyComplete: page.complete,
      deliveries: orch.deliveries(50),
      webhookUrl: view.webhookUrl,
      lastSeq: orch.store.lastSeq(),
      exports: this.ctx.githubExport.statesOf(this.folder),
    };
  }

  private handlers(): Handlers {
    return {
      ready: async ({ folder }) => {
        if (folder && this.ctx.hosts.has(folder)) this.folder = folder;
        await this.ctx.startAll();
        this.ready = true;
        const pending = this.pendingFocus;
        if (pending && this.ctx.hosts.has(pending.folder)) this.folder = pending.folder;
        const s = this.snapshot();
        this.panel.title = this.ctx.hosts.size > 1 ? `SDLC Orchestrator: ${this.host(this.folder)?.folder.name}` : 'SDLC Orchestrator';
        // After the reply: the page draws the snapshot first, then selects.
        if (pending) setTimeout(() => this.focus(pending), 0);
        return s;
      },
      history: ({ folder, before, limit }) => historyPage(this.orch(folder), before, Math.min(Math.max(1, limit), HISTORY_PAGE)),
      gantt: ({ folder, from, to, before, limit }) => {
        // A page at a time: 10,000 runs in one read would hold the extension host for 75 ms.
        const n = Math.min(Math.max(1, limit), GANTT_PAGE);
        const runs = this.orch(folder).store.ganttPage(Number(from) || 0, Number(to) || Date.now(), before, n);
        return { runs, complete: runs.filter((r) => r.endedAt !== null).length < n };
      },
      details: ({ folder, actionId, runId }) => {
        const d = detailsOf(this.orch(folder), actionId, runId, Date.now());
        if (!d) return d;
        const name = d.action?.source === 'file' ? d.action.name : undefined;
        // An action that says nothing about notify is announced by the folder's default (the settings).
        const fallback = d.action && d.action.policy.notify === undefined ? this.ctx.settings.notifyDefault.spec : undefined;
        return {
          ...d,
          ...(name !== undefined ? { export: this.ctx.githubExport.statesOf(folder)[name] ?? { state: 'missing' } } : {}),
          ...(fallback ? { notifyDefault: { ...fallback, url: redactTarget(fallback.url) } } : {}),
        };
      },
      delivery: ({ folder, deliveryId }) => deliveryDetailsOf(this.orch(folder), deliveryId),
      act: async ({ folder, op, actionId, flowId, runId }) => {
        const orch = this.orch(folder);
        if (op === 'pauseAll' || op === 'resumeAll') {
          await (op === 'pauseAll' ? orch.pause() : orch.resume());
          this.ctx.renderStatus();
          return { done: true };
        }
        if (op === 'createActionsFile' || op === 'openWalkthrough') {
          await vscode.commands.executeCommand(op === 'createActionsFile' ? 'sdlc.createActionsFile' : 'sdlc.openWalkthrough', { folder });
          return { done: true };
        }
        if (op === 'cancelFlow' || op === 'rerunFlow') {
          if (!flowId) return { done: false, message: vscode.l10n.t('Which flow?') };
          await (op === 'cancelFlow' ? orch.cancelFlow(flowId) : orch.rerunFlow(flowId));
          return { done: true };
        }
        if (op === 'openWorktree') {
          const worktree = runId ? orch.store.getRun(runId)?.worktree : undefined;
          if (!worktree) return { done: false, message: vscode.l10n.t('That run kept no worktree (it succeeded, or retention removed it).') };
          await openWorktree(worktree);
          return { done: true };
        }
        const action = actionId ? orch.getAction(actionId) : undefined;
        if (!action) return { done: false, message: vscode.l10n.t('That action was deleted; add it again to run it.') };
        switch (op) {
          case 'runNow':
          case 'rerun':
            await orch.runNow(action.id);
            break;
          case 'cancel':
            await orch.cancel(action.id);
            break;
          case 'pauseAction':
            await orch.pauseAction(action.id);
            break;
          case 'resumeAction':
            await orch.resumeAction(action.id);
            break;
          case 'openDefinition':
            if (!(await this.ctx.actionsFile.reveal(folder, action.name))) return { done: false, message: vscode.l10n.t('.sdlc/actions.yaml no longer defines "{0}".', action.name) };
            break;
          case 'approve': {
            const host = this.ctx.hosts.get(folder);
            if (host) await this.ctx.approvals.review(host, true);
            break;
          }
          case 'delete': {
            const ok = await vscode.window.showWarningMessage(vscode.l10n.t('Delete "{0}"? A run in progress is cancelled; its history stays.', action.name), { modal: true }, vscode.l10n.t('Delete'));
            if (!ok) return { done: false };
            await orch.remove(action.id);
            break;
          }
        }
        return { done: true };
      },
      validate: ({ folder, form }) => checkForm(form, Date.now(), this.orch(folder).listActions()).feedback,
      add: async ({ folder, form }) => {
        const orch = this.orch(folder);
        const checked = checkForm(form, Date.now(), orch.listActions());
        if (!checked.input) return { feedback: checked.feedback };
        const { actions } = await orch.add(checked.input);
        return { feedback: checked.feedback, actionId: actions[0]?.id };
      },
      saveFilter: async ({ filter }) => {
        await this.workspaceState.update(FILTER_KEY, filter);
        return null;
      },
      showOutput: async ({ folder, runId, name }) => {
        await this.ctx.showRunOutput(folder, { runId, name });
        return null;
      },
      showDelivery: async ({ folder, deliveryId }) => {
        const d = this.orch(folder).getDelivery(deliveryId);
        if (d) await this.ctx.showDelivery(folder, d);
        return null;
      },
      replay: async ({ folder, deliveryId }) => {
        await this.orch(folder).replayDelivery(deliveryId);
        return null;
      },
    };
  }

  private html(webview: vscode.Webview): string {
    const nonce = crypto.randomBytes(16).toString('base64');
    const asset = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview', name)).toString();
    const csp = [
      "default-src 'none'",
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      `img-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    // The toolkit's focus-visible probe adds a <style>; it takes its nonce from the csp-nonce meta.
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset('codicon.css')}" nonce="${nonce}">
<link rel="stylesheet" href="${asset('panel.css')}" nonce="${nonce}">
<title>SDLC Orchestrator</title>
</head>
<body>
<div id="app" aria-busy="true"></div>
<script nonce="${nonce}" src="${asset('panel.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    this.end.dispose();
    this.disposables.forEach((d) => d.dispose());
  }
}
