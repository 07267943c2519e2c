// The sidebar tree: Queue and History per folder, from the pure model in model/treeModel.ts.
// It refreshes when the engine pushes events (never by polling the database), and every few
// seconds while visible so that "in 3 min" stays true.
import * as vscode from 'vscode';
import type { TreeNode } from './model/treeModel';

export class OrchestratorTree implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private roots: TreeNode[] = [];
  private pending: NodeJS.Timeout | undefined;

  constructor(
    private readonly build: () => TreeNode[],
    /** Health lines for an action's tooltip, read only when the tooltip is about to show. */
    private readonly healthOf: (node: TreeNode) => string[] | undefined = () => undefined,
  ) {}

  resolveTreeItem(item: vscode.TreeItem, node: TreeNode): vscode.TreeItem {
    if (node.kind !== 'action') return item;
    const lines = this.healthOf(node);
    if (lines?.length) item.tooltip = `${node.tooltip ?? node.label}\n\n${lines.join('\n')}`;
    return item;
  }

  /** Coalesces bursts of changes into one refresh. */
  refresh(): void {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.changed.fire(undefined);
    }, 30);
  }

  getChildren(element?: TreeNode): TreeNode[] {
    if (!element) {
      this.roots = this.build();
      return this.roots;
    }
    return element.children ?? [];
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const state = node.children
      ? node.expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed
      : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, state);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    if (node.icon) item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
    // Click commands carry no arguments: VS Code registers a command with arguments through a
    // temporary delegate that a refresh disposes, and a click racing a refresh then fails.
    // Handlers read the selected row instead (Ctx.selectedNode).
    if (node.command) item.command = { command: node.command, title: node.label };
    else if (node.kind === 'run') item.command = { command: 'sdlc.showOutput', title: vscode.l10n.t('Show Output') };
    else if (node.kind === 'flow') item.command = { command: 'sdlc.showFlow', title: vscode.l10n.t('Show Flow') };
    return item;
  }

  dispose(): void {
    if (this.pending) clearTimeout(this.pending);
    this.changed.dispose();
  }
}
