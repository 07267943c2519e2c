// "Show Delivery": a read-only document with a webhook delivery as it was stored.
import * as vscode from 'vscode';
import { renderDelivery } from './model/deliveryText';
import type { Orchestrator } from '../core/orchestrator';

export const DELIVERY_SCHEME = 'sdlc-delivery';

export function deliveryUri(folder: string, d: { id: string; hook: string }): vscode.Uri {
  return vscode.Uri.from({ scheme: DELIVERY_SCHEME, path: `/${d.hook}-${d.id.slice(0, 8)}.txt`, query: new URLSearchParams({ folder, delivery: d.id }).toString() });
}

export class DeliveryProvider implements vscode.TextDocumentContentProvider {
  constructor(private readonly orchestratorOf: (folder: string) => Orchestrator | undefined) {}

  provideTextDocumentContent(uri: vscode.Uri): string {
    const q = new URLSearchParams(uri.query);
    const orch = this.orchestratorOf(q.get('folder') ?? '');
    const id = q.get('delivery') ?? '';
    const d = orch?.getDelivery(id);
    if (!orch || !d) return vscode.l10n.t('This delivery is no longer in the inbox.');
    return renderDelivery(d, orch.deliveryBody(id), orch.runsOfDelivery(id));
  }
}
