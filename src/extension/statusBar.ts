// The status-bar tick indicator: renders one StatusState value; nothing else sets its text.
import * as vscode from 'vscode';
import { renderStatus, type StatusState } from './model/statusModel';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sdlc.status', vscode.StatusBarAlignment.Left, 50);

  constructor() {
    this.item.name = 'SDLC Orchestrator';
    this.item.show();
  }

  render(state: StatusState): void {
    const view = renderStatus(state, Date.now());
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.backgroundColor =
      view.tone === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : view.tone === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}
