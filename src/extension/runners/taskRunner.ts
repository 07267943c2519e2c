// The `task` runner: a shell command as a VS Code Task (ShellExecution) in the folder, shown in
// the terminal panel, or a tasks.json task by its label (its problem matchers then feed the
// Problems panel). The exit code comes from the task's process end.
import * as vscode from 'vscode';
import type { RunHandle, RunOutcome, RunRequest, Runner } from '../../core/runner';

export const TASK_TYPE = 'sdlc';

async function findTasksJsonTask(folder: vscode.WorkspaceFolder | undefined, label: string): Promise<vscode.Task | undefined> {
  const tasks = await vscode.tasks.fetchTasks();
  const inFolder = (t: vscode.Task) => typeof t.scope === 'object' && folder !== undefined && (t.scope as vscode.WorkspaceFolder).uri.toString() === folder.uri.toString();
  return tasks.find((t) => t.name === label && inFolder(t)) ?? tasks.find((t) => t.name === label);
}

export class TaskRunner implements Runner {
  start(req: RunRequest, done: (outcome: RunOutcome) => void): RunHandle {
    let execution: vscode.TaskExecution | undefined;
    let settled = false;
    let stopped: string | undefined;
    const subscriptions: vscode.Disposable[] = [];
    const finish = (outcome: RunOutcome) => {
      if (settled) return;
      settled = true;
      subscriptions.forEach((d) => d.dispose());
      done(outcome);
    };
    subscriptions.push(
      vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution !== execution) return;
        if (e.exitCode === 0) finish({ status: 'succeeded', exitCode: 0 });
        else if (stopped === 'cancel') finish({ status: 'cancelled', exitCode: e.exitCode ?? null, reason: 'cancelled' });
        else finish({ status: 'failed', exitCode: e.exitCode ?? null, reason: e.exitCode === undefined ? 'the task ended without an exit code' : `exit code ${e.exitCode}` });
      }),
      // A task that ends without a process end (terminated before it started, or a task type
      // without a process) still ends the run.
      vscode.tasks.onDidEndTask((e) => {
        if (e.execution !== execution) return;
        setTimeout(() => finish({ status: stopped === 'cancel' ? 'cancelled' : 'failed', exitCode: null, reason: stopped ? `stopped (${stopped})` : 'the task ended without an exit code' }), 200);
      }),
    );
    void (async () => {
      const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(req.workspace));
      let task: vscode.Task | undefined;
      if (req.task) {
        task = await findTasksJsonTask(folder, req.task);
        if (!task) return finish({ status: 'failed', exitCode: null, reason: `no task "${req.task}" in tasks.json` });
      } else {
        task = new vscode.Task(
          { type: TASK_TYPE, runId: req.runId },
          folder ?? vscode.TaskScope.Workspace,
          `${req.name}`,
          'SDLC',
          new vscode.ShellExecution(req.command, { cwd: req.cwd, env: req.env }),
        );
        task.presentationOptions = { reveal: vscode.TaskRevealKind.Silent, panel: vscode.TaskPanelKind.Dedicated, clear: true, showReuseMessage: false };
      }
      try {
        execution = await vscode.tasks.executeTask(task);
        if (stopped) execution.terminate();
      } catch (err) {
        finish({ status: 'failed', exitCode: null, reason: `could not start the task: ${(err as Error).message}` });
      }
    })();
    return {
      stop: (reason) => {
        if (settled || stopped) return;
        stopped = reason;
        execution?.terminate();
      },
    };
  }
}
