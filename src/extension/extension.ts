// Entry point: activation builds the one context object; deactivation stops every folder's
// orchestrator cleanly (tick in flight finished, state durable, lease released).
import * as vscode from 'vscode';
import * as l10n from '@vscode/l10n';
import { registerCommands } from './commands';
import { Ctx } from './ctx';

let ctx: Ctx | undefined;

export function activate(context: vscode.ExtensionContext): void {
  // The model/ files (which cannot import vscode) speak the user's language from here on.
  if (vscode.l10n.bundle) l10n.config({ contents: vscode.l10n.bundle });
  const started = performance.now();
  ctx = new Ctx(context);
  registerCommands(ctx);
  ctx.activate(); // starts orchestrators in the background: nothing heavy before returning
  context.subscriptions.push({ dispose: () => ctx?.dispose() });
  ctx.log.info(`activated in ${(performance.now() - started).toFixed(1)} ms (${vscode.workspace.workspaceFolders?.length ?? 0} folders, trusted: ${vscode.workspace.isTrusted})`);
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  await c?.stop();
  c?.dispose();
}
