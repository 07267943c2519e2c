// The `terminal` runner: a named terminal per action, reused. With shell integration the
// command's exit code is recorded; without it, the command is sent and its exit code is
// recorded honestly as unknown.
import * as vscode from 'vscode';
import type { RunHandle, RunOutcome, RunRequest, Runner } from '../../core/runner';

/** How long to wait for a new terminal's shell integration before sending text blind. */
const SHELL_INTEGRATION_WAIT_MS = 4000;

export class TerminalRunner implements Runner {
  private readonly terminals = new Map<string, vscode.Terminal>();

  private terminalFor(req: RunRequest): vscode.Terminal {
    const existing = this.terminals.get(req.actionId);
    if (existing && existing.exitStatus === undefined) return existing;
    const { SDLC_RUN_ID: _r, SDLC_ATTEMPT: _a, SDLC_TRIGGER: _t, ...env } = req.env; // per-run values would go stale in a reused terminal
    const terminal = vscode.window.createTerminal({ name: `SDLC: ${req.name}`, cwd: req.cwd, env, iconPath: new vscode.ThemeIcon('run-all') });
    this.terminals.set(req.actionId, terminal);
    return terminal;
  }

  private shellIntegration(terminal: vscode.Terminal): Promise<vscode.TerminalShellIntegration | undefined> {
    if (terminal.shellIntegration) return Promise.resolve(terminal.shellIntegration);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        sub.dispose();
        resolve(undefined);
      }, SHELL_INTEGRATION_WAIT_MS);
      const sub = vscode.window.onDidChangeTerminalShellIntegration((e) => {
        if (e.terminal !== terminal) return;
        clearTimeout(timer);
        sub.dispose();
        resolve(e.shellIntegration);
      });
    });
  }

  start(req: RunRequest, done: (outcome: RunOutcome) => void): RunHandle {
    const terminal = this.terminalFor(req);
    terminal.show(true);
    let settled = false;
    let stopped: string | undefined;
    // A command that ends the shell (`exit 3`) closes the terminal: the run ends with it.
    const closed = vscode.window.onDidCloseTerminal((t) => {
      if (t !== terminal) return;
      const code = t.exitStatus?.code ?? null;
      if (stopped === 'cancel') finish({ status: 'cancelled', exitCode: code, reason: 'cancelled' });
      else if (code === 0) finish({ status: 'succeeded', exitCode: 0, reason: 'the terminal closed' });
      else finish({ status: 'failed', exitCode: code, reason: `the terminal closed${code !== null ? ` with exit code ${code}` : ''}` });
    });
    const finish = (o: RunOutcome) => {
      if (!settled) {
        settled = true;
        closed.dispose();
        done(o);
      }
    };
    void (async () => {
      const integration = await this.shellIntegration(terminal);
      if (stopped) return finish({ status: 'cancelled', exitCode: null, reason: `stopped (${stopped}) before it started` });
      if (!integration) {
        terminal.sendText(req.command, true);
        return finish({ status: 'succeeded', exitCode: null, reason: 'sent to the terminal; exit code unknown (the shell has no VS Code shell integration)' });
      }
      const execution = integration.executeCommand(req.command);
      const sub = vscode.window.onDidEndTerminalShellExecution((e) => {
        if (e.execution !== execution) return;
        sub.dispose();
        if (stopped === 'cancel') finish({ status: 'cancelled', exitCode: e.exitCode ?? null, reason: 'cancelled' });
        else if (e.exitCode === 0) finish({ status: 'succeeded', exitCode: 0 });
        else if (e.exitCode === undefined) finish({ status: 'succeeded', exitCode: null, reason: 'exit code unknown (the shell did not report it)' });
        else finish({ status: 'failed', exitCode: e.exitCode, reason: `exit code ${e.exitCode}` });
      });
    })();
    return {
      stop: (reason) => {
        if (settled || stopped) return;
        stopped = reason;
        terminal.sendText('\u0003', false); // Ctrl-C to what runs in it
      },
    };
  }

  dispose(): void {
    this.terminals.clear();
  }
}
