// Every command, in one table, registered in one loop under the `sdlc.` prefix. The palette
// titles (package.json) are the user's words: "Schedule Action", "Run Action Now", …
import { displayText } from '../core/displayText';
import * as vscode from 'vscode';
import type { Action, Delivery } from '../core/model';
import type { Ctx } from './ctx';
import type { FolderHost } from './folderHost';
import type { TreeNode } from './model/treeModel';
import * as fs from 'fs';
import { addToActionsFile, definitionOf } from '../core/definitions/writeActionsFile';
import { actionsFileOf } from './actionsFileSupport';
import { fileActionNames, scheduleActionWizard, writeToActionsFile } from './scheduleWizard';
import { readWebhookInfo } from '../core/webhookFiles';
import { openWorktree } from './panel';
import { openActionsFile, WALKTHROUGH } from './onboarding';

type Handler = (ctx: Ctx) => (node?: TreeNode, ...rest: unknown[]) => unknown;

/** The action a command is about: the tree row it was invoked on, or one the user picks. */
async function targetAction(ctx: Ctx, node: TreeNode | undefined, placeholder: string, filter: (a: Action) => boolean = () => true): Promise<{ host: FolderHost; id: string; name: string } | undefined> {
  const host = await ctx.hostFor(node?.folder);
  if (!host?.orchestrator) return undefined;
  if (node?.actionId) return { host, id: node.actionId, name: node.label };
  const actions = host.orchestrator.listActions().filter(filter);
  if (!actions.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('There is no action for that here.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    actions.map((a) => ({ label: displayText(a.name), description: a.status, detail: a.run.command, id: a.id })),
    { placeHolder: placeholder },
  );
  return picked && { host, id: picked.id, name: picked.label };
}

async function attempt(what: Promise<unknown>): Promise<void> {
  try {
    await what;
  } catch (err) {
    void vscode.window.showErrorMessage(vscode.l10n.t('SDLC: {0}', (err as Error).message));
  }
}

export const COMMANDS: Record<string, Handler> = {
  scheduleAction: (ctx) => async (node) => {
    const host = await ctx.hostFor(node?.folder);
    if (!host?.orchestrator) return;
    await attempt(scheduleActionWizard(host.folder, host.orchestrator, ctx.settings.defaultRunner, ctx.approvals));
  },
  runNow: (ctx) => async (node) => {
    const t = await targetAction(ctx, node, vscode.l10n.t('Run which action now?'), (a) => a.status !== 'paused');
    if (t) await attempt(t.host.orchestrator!.runNow(t.id));
  },
  rerun: (ctx) => async (node) => {
    const t = await targetAction(ctx, node, vscode.l10n.t('Run which action again?'));
    if (!t) return;
    if (!t.host.orchestrator!.getAction(t.id)) {
      void vscode.window.showWarningMessage(vscode.l10n.t('"{0}" was deleted; schedule it again to run it.', t.name));
      return;
    }
    await attempt(t.host.orchestrator!.runNow(t.id));
  },
  cancel: (ctx) => async (node) => {
    const t = await targetAction(ctx, node, vscode.l10n.t('Cancel which action?'));
    if (t && !(await editInFile(ctx, t, 'cancel'))) await attempt(t.host.orchestrator!.cancel(t.id));
  },
  delete: (ctx) => async (node) => {
    const t = await targetAction(ctx, node, vscode.l10n.t('Delete which action?'));
    if (!t || (await editInFile(ctx, t, 'delete'))) return;
    const ok = await vscode.window.showWarningMessage(vscode.l10n.t('Delete "{0}"? A run in progress is cancelled; its history stays.', t.name), { modal: true }, vscode.l10n.t('Delete'));
    if (ok) await attempt(t.host.orchestrator!.remove(t.id));
  },
  pauseAction: (ctx) => async (node) => {
    const t = await targetAction(ctx, node, vscode.l10n.t('Pause which action?'), (a) => a.status !== 'paused');
    if (t) await attempt(t.host.orchestrator!.pauseAction(t.id));
  },
  resumeAction: (ctx) => async (node) => {
    const t = await targetAction(ctx, node, vscode.l10n.t('Resume which action?'), (a) => a.status === 'paused');
    if (t) await attempt(t.host.orchestrator!.resumeAction(t.id));
  },
  showOutput: (ctx) => async (clicked) => {
    const node = clicked ?? ctx.selectedNode;
    const host = await ctx.hostFor(node?.folder);
    const orch = host?.orchestrator;
    if (!host || !orch) return;
    const runId = node?.runId ?? (node?.actionId ? orch.getAction(node.actionId)?.lastRunId : orch.history(1)[0]?.runId);
    if (!runId) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No run to show yet.'));
      return;
    }
    await ctx.showRunOutput(host.folder.uri.fsPath, { runId, name: node?.label ?? 'run' });
  },
  pause: (ctx) => async () => {
    await ctx.startAll();
    for (const h of ctx.hosts.values()) if (h.orchestrator) await attempt(h.orchestrator.pause());
    ctx.renderStatus();
  },
  resume: (ctx) => async () => {
    await ctx.startAll();
    for (const h of ctx.hosts.values()) if (h.orchestrator) await attempt(h.orchestrator.resume());
    ctx.renderStatus();
  },
  clearHistory: (ctx) => async (node) => {
    const host = await ctx.hostFor(node?.folder);
    if (!host?.orchestrator) return;
    const ok = await vscode.window.showWarningMessage(vscode.l10n.t('Clear the history of {0}? Finished runs and finished actions are removed.', host.folder.name), { modal: true }, vscode.l10n.t('Clear History'));
    if (ok) await attempt(host.orchestrator.clearHistory());
  },
  openPanel: (ctx) => () => ctx.panels.open(),
  copyWebhookUrl: (ctx) => async (clicked) => {
    const host = await ctx.hostFor((clicked ?? ctx.selectedNode)?.folder);
    if (!host?.orchestrator) return;
    await copyWebhookUrl(host);
  },
  showDelivery: (ctx) => async (clicked) => {
    const t = await targetDelivery(ctx, clicked, vscode.l10n.t('Show which delivery?'));
    if (t) await ctx.showDelivery(t.host.folder.uri.fsPath, t.delivery);
  },
  replayDelivery: (ctx) => async (clicked) => {
    const t = await targetDelivery(ctx, clicked, vscode.l10n.t('Replay which delivery?'));
    if (!t) return;
    const { hook, id } = t.delivery;
    await attempt(
      t.host.orchestrator!.replayDelivery(id).then(() => vscode.window.setStatusBarMessage(vscode.l10n.t('$(mail) Replayed the delivery to "{0}"; it runs on the next tick', hook), 4000)),
    );
  },
  showLog: (ctx) => () => ctx.channel.show(),
  approveActions: (ctx) => async (clicked) => {
    const host = await ctx.hostFor((clicked ?? ctx.selectedNode)?.folder);
    if (host) await attempt(ctx.approvals.review(host, true));
  },
  goToDefinition: (ctx) => async (clicked) => {
    const node = clicked ?? ctx.selectedNode;
    const host = await ctx.hostFor(node?.folder);
    const a = node?.actionId ? host?.orchestrator?.getAction(node.actionId) : undefined;
    if (!host || !a) return;
    if (a.source !== 'file') {
      void vscode.window.showInformationMessage(vscode.l10n.t('"{0}" was added on this machine; it is not in .sdlc/actions.yaml.', displayText(a.name)));
      return;
    }
    if (!(await ctx.actionsFile.reveal(host.folder.uri.fsPath, a.name))) {
      void vscode.window.showWarningMessage(vscode.l10n.t('.sdlc/actions.yaml no longer defines "{0}"; it ends once the file is applied.', displayText(a.name)));
    }
  },
  moveToFile: (ctx) => async (node) => {
    const t = await targetAction(ctx, node, vscode.l10n.t('Move which action into .sdlc/actions.yaml?'), (a) => a.source === 'local');
    const orch = t?.host.orchestrator;
    const a = t && orch?.getAction(t.id);
    if (!t || !orch || !a) return;
    if (a.source === 'file') {
      void vscode.window.showInformationMessage(vscode.l10n.t('"{0}" is already in .sdlc/actions.yaml.', displayText(a.name)));
      return;
    }
    const ok = await vscode.window.showInformationMessage(
      vscode.l10n.t(
        'Move "{0}" into .sdlc/actions.yaml? It is then shared with the repository (commit the file), and this machine\'s copy ends; its history stays.',
        displayText(a.name),
      ),
      { modal: true },
      vscode.l10n.t('Move'),
    );
    if (!ok) return;
    await attempt(
      (async () => {
        const def = definitionOf(a, fileActionNames(orch));
        // Checked before anything changes: the local action ends only once the file can take it.
        const file = actionsFileOf(t.host.folder.uri.fsPath);
        addToActionsFile(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined, a.name, def, Date.now());
        await orch.remove(a.id);
        await writeToActionsFile(t.host.folder, a.name, def, a.run, ctx.approvals);
      })(),
    );
  },
  exportGithubActions: (ctx) => async (node) => {
    const host = await ctx.hostFor(node?.folder);
    if (host) await attempt(ctx.githubExport.export(host.folder.uri.fsPath));
  },
  showFlow: (ctx) => async (clicked) => {
    const t = await targetFlow(ctx, clicked ?? ctx.selectedNode, vscode.l10n.t('Show which flow run?'));
    if (!t) return;
    const flow = t.host.orchestrator!.getFlow(t.flowId);
    const last = flow?.runs[flow.runs.length - 1];
    if (!flow || !last) return;
    ctx.panels.open({ folder: t.host.folder.uri.fsPath, actionId: last.actionId, runId: last.runId, tab: 'flow' });
  },
  cancelFlow: (ctx) => async (clicked) => {
    const t = await targetFlow(ctx, clicked ?? ctx.selectedNode, vscode.l10n.t('Cancel which flow run?'), 'running');
    if (t) await attempt(t.host.orchestrator!.cancelFlow(t.flowId));
  },
  rerunFlow: (ctx) => async (clicked) => {
    const t = await targetFlow(ctx, clicked ?? ctx.selectedNode, vscode.l10n.t('Re-run the failed steps of which flow run?'), 'failed');
    if (t) await attempt(t.host.orchestrator!.rerunFlow(t.flowId));
  },
  openWorktree: (ctx) => async (clicked) => {
    const node = clicked ?? ctx.selectedNode;
    const host = await ctx.hostFor(node?.folder);
    const worktree = node?.runId ? host?.orchestrator?.store.getRun(node.runId)?.worktree : undefined;
    if (!worktree) {
      void vscode.window.showInformationMessage(vscode.l10n.t('That run kept no worktree: it was not isolated, it succeeded, or retention removed it.'));
      return;
    }
    await openWorktree(worktree);
  },
  openWalkthrough: (ctx) => () =>
    vscode.commands.executeCommand('workbench.action.openWalkthrough', `${ctx.extension.extension.id}#${WALKTHROUGH}`, false),
  createActionsFile: (ctx) => async (node) => {
    const host = await ctx.hostFor(node?.folder);
    if (host) await attempt(openActionsFile(host.folder.uri.fsPath));
  },
  /** From a CodeLens: run a file action by its name. */
  runFileAction: (ctx) => async (folder?: unknown, name?: unknown) => {
    const host = await ctx.hostFor(typeof folder === 'string' ? folder : undefined);
    const a = host?.orchestrator?.listActions().find((x) => x.source === 'file' && x.name === name);
    if (!host || !a) {
      void vscode.window.showWarningMessage(vscode.l10n.t('"{0}" is not applied yet: save the file, and check the Problems panel.', String(name)));
      return;
    }
    await attempt(host.orchestrator!.runNow(a.id).then(() => vscode.window.setStatusBarMessage(vscode.l10n.t('$(play) {0}: queued to run now', displayText(a.name)), 3000)));
  },
};

/**
 * An action from the actions file is ended by removing it from the file, where the change is
 * reviewed like any other; offer to open it there. True when the action is such a one.
 */
async function editInFile(ctx: Ctx, t: { host: FolderHost; id: string; name: string }, what: 'cancel' | 'delete'): Promise<boolean> {
  const a = t.host.orchestrator?.getAction(t.id);
  if (a?.source !== 'file' || ['succeeded', 'failed', 'cancelled'].includes(a.status)) return false;
  const choice = await vscode.window.showInformationMessage(
    what === 'cancel'
      ? vscode.l10n.t('"{0}" is defined in .sdlc/actions.yaml. To cancel it, remove it from that file and save; its history stays.', displayText(a.name))
      : vscode.l10n.t('"{0}" is defined in .sdlc/actions.yaml. To delete it, remove it from that file and save; its history stays.', displayText(a.name)),
    vscode.l10n.t('Open Actions File'),
  );
  if (choice) await ctx.actionsFile.reveal(t.host.folder.uri.fsPath, a.name);
  return true;
}

/** The flow run a command is about: the tree row it was invoked on, or one the user picks. */
async function targetFlow(ctx: Ctx, node: TreeNode | undefined, placeholder: string, status?: 'running' | 'failed'): Promise<{ host: FolderHost; flowId: string } | undefined> {
  const host = await ctx.hostFor(node?.folder);
  const orch = host?.orchestrator;
  if (!host || !orch) return undefined;
  if (node?.flowId) return { host, flowId: node.flowId };
  const flows = orch.listFlows(50).filter((f) => !status || f.status === status || (status === 'failed' && f.status === 'cancelled'));
  if (!flows.length) {
    void vscode.window.showInformationMessage(status === 'running' ? vscode.l10n.t('No flow is running here.') : status ? vscode.l10n.t('No flow run here has failed steps to re-run.') : vscode.l10n.t('No flow has run here yet.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    flows.map((f) => ({ label: vscode.l10n.t('{0} flow', displayText(f.name)), description: `${f.status} · ${new Date(f.startedAt).toLocaleString()}`, detail: f.reason ?? f.flowId, flowId: f.flowId })),
    { placeHolder: placeholder },
  );
  return picked && { host, flowId: picked.flowId };
}

/** The delivery a command is about: the tree row it was invoked on (or selected), or one the user picks. */
async function targetDelivery(ctx: Ctx, clicked: TreeNode | undefined, placeholder: string): Promise<{ host: FolderHost; delivery: Delivery } | undefined> {
  const node = clicked ?? ctx.selectedNode;
  const host = await ctx.hostFor(node?.folder);
  const orch = host?.orchestrator;
  if (!host || !orch) return undefined;
  if (node?.deliveryId) {
    const delivery = orch.getDelivery(node.deliveryId);
    return delivery && { host, delivery };
  }
  const list = orch.deliveries(50);
  if (!list.length) {
    void vscode.window.showInformationMessage(vscode.l10n.t('No webhook deliveries have arrived in this folder yet.'));
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    list.map((d) => ({ label: d.hook, description: new Date(d.receivedAt).toLocaleString(), detail: vscode.l10n.t('{0} bytes · {1}', d.size, d.status), d })),
    { placeHolder: placeholder },
  );
  return picked && { host, delivery: picked.d };
}

/** Copies the listener's URL; the secret is one more click, never shown on screen. */
export async function copyWebhookUrl(host: FolderHost, hook?: string): Promise<void> {
  const info = readWebhookInfo(host.orchestrator!.paths);
  if (!info?.url) {
    void vscode.window.showWarningMessage(
      vscode.l10n.t('No orchestrator serves webhooks for {0}. Check that sdlcOrchestrator.webhooks.enabled is on, and see the log.', host.folder.name),
      vscode.l10n.t('Show Log'),
    ).then((a) => a && vscode.commands.executeCommand('sdlc.showLog'));
    return;
  }
  const url = `${info.url}/hooks/${hook ?? '<name>'}`;
  await vscode.env.clipboard.writeText(hook ? url : info.url);
  const choice = await vscode.window.showInformationMessage(
    vscode.l10n.t('Copied {0}. POST to {1} with "Authorization: Bearer <secret>" or a GitHub X-Hub-Signature-256 signature.', hook ? url : info.url, url),
    vscode.l10n.t('Copy Secret'),
  );
  if (choice) {
    await vscode.env.clipboard.writeText(info.secret);
    vscode.window.setStatusBarMessage(vscode.l10n.t('$(key) Webhook secret copied'), 3000);
  }
}

export function registerCommands(ctx: Ctx): void {
  for (const [name, handler] of Object.entries(COMMANDS)) {
    ctx.subscriptions.push(vscode.commands.registerCommand(`sdlc.${name}`, handler(ctx)));
  }
}
