// The orchestrator panel's host. The full panel (a live tree of queue and history, details,
// timeline) is its own piece of work; until it lands this opens a small page that says so and
// points at the tree, with the same CSP the real panel will use.
import * as crypto from 'crypto';
import * as vscode from 'vscode';

export function openPanelPlaceholder(summary: string): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel('sdlc.orchestratorPanel', 'SDLC Orchestrator', vscode.ViewColumn.Active, {
    enableScripts: false,
    localResourceRoots: [],
  });
  const nonce = crypto.randomBytes(16).toString('base64');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  panel.webview.html = `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}';">
<style nonce="${nonce}">body{font-family:var(--vscode-font-family);color:var(--vscode-foreground);padding:1.5em;line-height:1.5}
code{font-family:var(--vscode-editor-font-family)}.muted{color:var(--vscode-descriptionForeground)}</style>
<title>SDLC Orchestrator</title></head><body>
<h2>SDLC Orchestrator</h2>
<p>${esc(summary)}</p>
<p class="muted">The full orchestrator panel (a live view of the queue and the history, run details and timelines) is coming in a later version.
Until then, the <b>SDLC Orchestrator</b> view in the activity bar shows the queue and the history, and <code>SDLC: Show Log</code> shows what the engine did.</p>
</body></html>`;
  return panel;
}
