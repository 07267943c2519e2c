// Schedule Action: a short quick-input wizard. What to run, the command, when, a name.
// Each step validates as you type; Escape at any step cancels with nothing written.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ACTIONS_FILE, NAME, type FileDefinition } from '../core/definitions/actionsFile';
import { addToActionsFile, definitionOf, suggestName } from '../core/definitions/writeActionsFile';
import { DEFAULT_POLICY } from '../core/model';
import { writeFileAtomic } from '../core/store/atomicFile';
import { readWebhookInfo } from '../core/webhookFiles';
import type { ActionInput, Trigger } from '../core/model';
import type { Orchestrator } from '../core/orchestrator';
import { commandFeedback, defaultName, nameFeedback, runChoices, whenChoices, whenPrompts, whenFeedback, type Choice, type RunKind, type WhenKind } from './model/wizardModel';
import { relativeTime } from './model/relativeTime';

const TITLE = vscode.l10n.t('Schedule Action');

function pick<T>(step: number, total: number, placeholder: string, choices: Choice<T>[]): Promise<T | undefined> {
  return choose(step, total, placeholder, choices, false).then((v) => v?.[0]);
}

/** Several of the choices at once (checkboxes); at least one. */
function pickMany<T>(step: number, total: number, placeholder: string, choices: Choice<T>[]): Promise<T[] | undefined> {
  return choose(step, total, placeholder, choices, true);
}

function choose<T>(step: number, total: number, placeholder: string, choices: Choice<T>[], many: boolean): Promise<T[] | undefined> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { value: T }>();
    qp.title = TITLE;
    qp.step = step;
    qp.totalSteps = total;
    qp.placeholder = placeholder;
    qp.canSelectMany = many;
    qp.items = choices.flatMap((c, i) => [
      // Separators only in a single choice: checkboxes under group headings read as one list.
      ...(!many && c.group && c.group !== choices[i - 1]?.group ? [{ label: c.group, kind: vscode.QuickPickItemKind.Separator, value: c.value }] : []),
      { label: c.label, description: c.description, detail: c.detail, value: c.value },
    ]);
    qp.matchOnDetail = true;
    let done = false;
    qp.onDidAccept(() => {
      if (!qp.selectedItems.length) return;
      done = true;
      resolve(qp.selectedItems.map((c) => c.value));
      qp.hide();
    });
    qp.onDidHide(() => {
      if (!done) resolve(undefined);
      qp.dispose();
    });
    qp.show();
  });
}

interface InputOptions {
  prompt: string;
  placeholder?: string;
  value?: string;
  /** An error blocks the step; info is shown under a good value (e.g. the next run times). */
  check: (text: string) => { error?: string; info?: string };
}

function input(step: number, total: number, opts: InputOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const box = vscode.window.createInputBox();
    box.title = TITLE;
    box.step = step;
    box.totalSteps = total;
    box.prompt = opts.prompt;
    box.placeholder = opts.placeholder;
    box.value = opts.value ?? '';
    let touched = false;
    const validate = (text: string): boolean => {
      const { error, info } = opts.check(text);
      // Say nothing about an empty box the user has not typed in yet.
      if (error && (touched || text)) box.validationMessage = { message: error, severity: vscode.InputBoxValidationSeverity.Error };
      else if (info) box.validationMessage = { message: info, severity: vscode.InputBoxValidationSeverity.Info };
      else box.validationMessage = undefined;
      return !error;
    };
    validate(box.value);
    let done = false;
    box.onDidChangeValue((text) => {
      touched = true;
      validate(text);
    });
    box.onDidAccept(() => {
      touched = true;
      if (!validate(box.value)) return;
      done = true;
      resolve(box.value);
      box.hide();
    });
    box.onDidHide(() => {
      if (!done) resolve(undefined);
      box.dispose();
    });
    box.show();
  });
}

async function tasksJsonTasks(folder: vscode.WorkspaceFolder): Promise<Choice<string>[]> {
  const tasks = await vscode.tasks.fetchTasks();
  const own = tasks.filter((t) => typeof t.scope === 'object' && (t.scope as vscode.WorkspaceFolder).uri.toString() === folder.uri.toString());
  return own.map((t) => ({ value: t.name, label: t.name, description: t.source, detail: t.detail }));
}

/** Who records that the user approved a command they wrote themselves. */
export interface OwnApprovals {
  approveOwn(folder: string, a: { name: string; run: { command: string; task?: string; cwd?: string; env?: Record<string, string> } }): void;
}

/** Adds an action to `.sdlc/actions.yaml`; the orchestrator applies it when the file changes. */
export async function writeToActionsFile(folder: vscode.WorkspaceFolder, name: string, def: FileDefinition, run: ActionInput['run'], approvals: OwnApprovals): Promise<void> {
  const file = path.join(folder.uri.fsPath, '.sdlc', ACTIONS_FILE);
  const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
  if (open?.isDirty) throw new Error(vscode.l10n.t('.sdlc/actions.yaml has unsaved changes; save or revert them first'));
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
  const next = addToActionsFile(text, name, def, Date.now());
  // The user wrote this command here and now: it needs no second approval.
  approvals.approveOwn(folder.uri.fsPath, { name, run });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, next);
  void vscode.window.showInformationMessage(vscode.l10n.t('Added "{0}" to .sdlc/actions.yaml: it runs once applied. Commit the file to share it.', name), vscode.l10n.t('Open Actions File')).then(async (choice) => {
    if (!choice) return;
    const doc = await vscode.workspace.openTextDocument(file);
    const line = Math.max(0, doc.getText().split('\n').findIndex((l) => l.startsWith(`  ${name}:`)));
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(line, 2, line, 2 + name.length) });
  });
}

/** The names of the folder's file actions by id: `after` in the file names its upstream. */
export function fileActionNames(orch: Orchestrator): (id: string) => string | undefined {
  const byId = new Map(orch.listActions().filter((a) => a.source === 'file').map((a) => [a.id, a.name] as const));
  return (id) => byId.get(id);
}

/**
 * Runs the wizard against one folder's orchestrator. Returns the input it added, or
 * undefined when the user cancelled (nothing is written then).
 */
export async function scheduleActionWizard(folder: vscode.WorkspaceFolder, orch: Orchestrator, defaultRunner: string, approvals: OwnApprovals): Promise<ActionInput | undefined> {
  const total = 6;
  const kind = await pick<RunKind>(1, total, vscode.l10n.t('What should run?'), runChoices(defaultRunner));
  if (!kind) return undefined;

  let command: string | undefined;
  let task: string | undefined;
  if (kind === 'tasksJson') {
    const tasks = await tasksJsonTasks(folder);
    if (!tasks.length) {
      void vscode.window.showWarningMessage(vscode.l10n.t('{0} has no tasks in tasks.json. Choose a shell command instead, or add a task first.', folder.name), vscode.l10n.t('Configure Tasks')).then((a) => {
        if (a) void vscode.commands.executeCommand('workbench.action.tasks.configureTaskRunner');
      });
      return undefined;
    }
    task = await pick(2, total, vscode.l10n.t('Which task?'), tasks);
    if (!task) return undefined;
    command = `task: ${task}`;
  } else {
    command = await input(2, total, { prompt: vscode.l10n.t('The shell command to run'), placeholder: 'npm test', check: (t) => ({ error: commandFeedback(t) }) });
    if (command === undefined) return undefined;
  }

  const when = await pick<WhenKind>(3, total, vscode.l10n.t('When should it run?'), whenChoices());
  if (!when) return undefined;
  let trigger: Trigger | undefined;
  if (when === 'manual') trigger = { kind: 'manual' };
  else if (when === 'open') trigger = { kind: 'open' };
  else if (when === 'afterTask') {
    // The task list comes from tasks.json; a label typed by hand is allowed (tasks come and go).
    const tasks = await tasksJsonTasks(folder);
    const typed = '\u0000typed';
    const chosen = await pick(4, total, vscode.l10n.t('After which task ends?'), [
      ...tasks.map((t) => ({ ...t, description: t.description ? vscode.l10n.t('{0} task', t.description) : undefined })),
      { value: typed, label: vscode.l10n.t('$(edit) Another label…'), detail: tasks.length ? vscode.l10n.t('A task that is not in tasks.json yet') : vscode.l10n.t('{0} has no tasks in tasks.json yet', folder.name) },
    ]);
    if (!chosen) return undefined;
    let label = chosen;
    if (chosen === typed) {
      const t = await input(4, total, { prompt: whenPrompts().afterTask.prompt, placeholder: whenPrompts().afterTask.placeholder, check: (v) => {
        const f = whenFeedback('afterTask', v, Date.now());
        return f.ok ? { info: tasks.some((x) => x.value === v.trim()) ? f.info : vscode.l10n.t('{0} · not in tasks.json yet', f.info ?? '') } : { error: f.message };
      } });
      if (t === undefined) return undefined;
      label = t.trim();
    }
    const onlyOn = await pick<'any' | 'success' | 'failure'>(4, total, vscode.l10n.t('When "{0}" ends…', label), [
      { value: 'any', label: vscode.l10n.t('Whenever it ends') },
      { value: 'success', label: vscode.l10n.t('Only when it succeeds'), detail: vscode.l10n.t('exit code 0') },
      { value: 'failure', label: vscode.l10n.t('Only when it fails'), detail: vscode.l10n.t('any other exit code') },
    ]);
    if (!onlyOn) return undefined;
    trigger = { kind: 'afterTask', task: label, ...(onlyOn !== 'any' ? { onlyOn } : {}) };
  } else if (when === 'after') {
    const actions = orch.listActions();
    if (!actions.length) {
      void vscode.window.showWarningMessage(vscode.l10n.t('There is no action to run after yet. Schedule that one first.'));
      return undefined;
    }
    const after = await pickMany(4, total, vscode.l10n.t('After which actions? (check one or several: it runs once they have all succeeded)'), actions.map((a) => ({ value: a.id, label: a.name, description: a.status, detail: a.run.command })));
    if (!after) return undefined;
    trigger = { kind: 'after', after };
  } else {
    const { prompt, placeholder } = whenPrompts()[when];
    const text = await input(4, total, {
      prompt,
      placeholder,
      check: (t) => {
        const f = whenFeedback(when, t, Date.now());
        return f.ok ? { info: f.info } : { error: f.message };
      },
    });
    if (text === undefined) return undefined;
    const f = whenFeedback(when, text, Date.now());
    if (!f.ok) return undefined;
    trigger = f.trigger;
  }

  const name = await input(5, total, { prompt: vscode.l10n.t('A name for the action'), value: task ?? defaultName(command), check: (t) => ({ error: nameFeedback(t) }) });
  if (name === undefined) return undefined;

  const runner = kind === 'tasksJson' ? 'task' : kind;
  const added: ActionInput = { name: name.trim(), trigger, run: { runner, command, ...(task ? { task } : {}) } };

  const keep = await pick<'local' | 'file'>(6, total, vscode.l10n.t('Where should it be kept?'), [
    { value: 'local', label: vscode.l10n.t('On this machine only'), description: '.sdlc/orchestrator.db', detail: vscode.l10n.t('Yours alone; not in the repository.') },
    { value: 'file', label: vscode.l10n.t('In the actions file, shared'), description: '.sdlc/actions.yaml', detail: vscode.l10n.t('Committed and reviewed with the repository; runs for whoever clones it once they approve it.') },
  ]);
  if (!keep) return undefined;
  if (keep === 'file') {
    if (!NAME.test(added.name!)) {
      // Names in the file are identifiers (they may become job ids); offer one.
      const fixed = await input(6, total, {
        prompt: vscode.l10n.t('A name in the actions file: letters, digits, ".", "_" and "-"'),
        value: suggestName(added.name!),
        check: (t) => ({ error: NAME.test(t.trim()) ? undefined : vscode.l10n.t('Use letters, digits, ".", "_" and "-", starting with a letter, digit or "_".') }),
      });
      if (fixed === undefined) return undefined;
      added.name = fixed.trim();
    }
    const def = definitionOf({ trigger, run: { runner, command, ...(task ? { task } : {}) }, policy: DEFAULT_POLICY }, fileActionNames(orch));
    delete def['catch-up']; // the setting's default, as for an action added here
    await writeToActionsFile(folder, added.name!, def, added.run, approvals);
    return added;
  }
  const { actions } = await orch.add(added);
  const a = actions[0];
  const whenText = a.dueAt !== null ? vscode.l10n.t('next run {0}', relativeTime(a.dueAt, Date.now())) : a.status === 'waiting' ? vscode.l10n.t('waiting for its trigger') : a.status;
  const base = a.trigger.kind === 'webhook' ? readWebhookInfo(orch.paths)?.url : undefined;
  if (a.trigger.kind === 'webhook' && base) {
    // The one moment the user needs the address: offer it right here.
    const url = `${base}/hooks/${a.trigger.hook}`;
    const copyUrl = vscode.l10n.t('Copy URL');
    const copySecret = vscode.l10n.t('Copy Secret');
    void vscode.window.showInformationMessage(vscode.l10n.t('Scheduled "{0}": runs on each POST to {1} (with the folder\'s webhook secret).', a.name, url), copyUrl, copySecret).then(async (c) => {
      if (c === copyUrl) await vscode.env.clipboard.writeText(url);
      if (c === copySecret) await vscode.env.clipboard.writeText(readWebhookInfo(orch.paths)?.secret ?? '');
    });
  } else {
    void vscode.window.showInformationMessage(vscode.l10n.t('Scheduled "{0}": {1}.', a.name, whenText));
  }
  return added;
}
