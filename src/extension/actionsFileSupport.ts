// The actions file in the editor: its problems in the Problems panel (as you type, and for a
// file that is not open), CodeLens above each action (Run Now, the next run, the last result),
// a hover with a cron value's next runs, and where each action is written (Go to Definition).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ACTIONS_FILE, type FileAction, type ParsedActionsFile } from '../core/definitions/actionsFile';
import { parseActionsFileAsync } from '../core/definitions/actionsFileSource';
import type { Ctx } from './ctx';
import { cronHover, lensesFor } from './model/fileLens';

const SELECTOR: vscode.DocumentSelector = { scheme: 'file', pattern: '**/.sdlc/actions.yaml' };
const TYPING_SETTLE_MS = 250;

export function isActionsFile(uri: vscode.Uri): boolean {
  return uri.scheme === 'file' && path.basename(uri.fsPath) === ACTIONS_FILE && path.basename(path.dirname(uri.fsPath)) === '.sdlc';
}

export function actionsFileOf(folder: string): string {
  return path.join(folder, '.sdlc', ACTIONS_FILE);
}

export class ActionsFileSupport implements vscode.Disposable {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('sdlc-actions');
  /** Per actions file: the latest parse (the open document's text, else the file on disk). */
  private readonly parsed = new Map<string, ParsedActionsFile>();
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  private readonly disposables: vscode.Disposable[] = [this.diagnostics, this.lensesChanged];
  private readonly typing = new Map<string, NodeJS.Timeout>();
  private readonly generation = new Map<string, number>();
  private lensTimer: NodeJS.Timeout | undefined;
  private ageTimer: NodeJS.Timeout | undefined;
  private readonly problemsChanged = new vscode.EventEmitter<void>();
  /** A file's problems appeared or went. */
  readonly onDidChangeProblems = this.problemsChanged.event;
  private readonly parsedEmitter = new vscode.EventEmitter<string>();
  /** A folder's actions file was read again (typed, saved, changed on disk): its folder. */
  readonly onDidParse = this.parsedEmitter.event;

  constructor(private readonly ctx: Ctx) {
    const d = this.disposables;
    d.push(this.problemsChanged, this.parsedEmitter);
    vscode.workspace.onDidOpenTextDocument((doc) => isActionsFile(doc.uri) && this.parseDocument(doc), null, d);
    vscode.workspace.onDidChangeTextDocument((e) => isActionsFile(e.document.uri) && this.parseSoon(e.document), null, d);
    // Closing without saving: what counts again is the file on disk.
    vscode.workspace.onDidCloseTextDocument((doc) => isActionsFile(doc.uri) && void this.parseDisk(doc.uri.fsPath), null, d);
    const watcher = vscode.workspace.createFileSystemWatcher('**/.sdlc/actions.yaml');
    d.push(
      watcher,
      watcher.onDidCreate((u) => this.diskChanged(u)),
      watcher.onDidChange((u) => this.diskChanged(u)),
      watcher.onDidDelete((u) => this.diskChanged(u)),
      vscode.languages.registerCodeLensProvider(SELECTOR, {
        onDidChangeCodeLenses: this.lensesChanged.event,
        provideCodeLenses: (doc) => this.codeLenses(doc),
      }),
      vscode.languages.registerHoverProvider(SELECTOR, { provideHover: (doc, pos) => this.hover(doc, pos) }),
    );
    // "5 min ago" ages; refresh the lenses now and then while a file is open.
    this.ageTimer = setInterval(() => this.refreshLenses(), 30_000);
  }

  /** Reads each folder's file once at start (the file need not be open to have problems). */
  scanFolders(folders: readonly string[]): void {
    for (const f of folders) void this.parseDisk(actionsFileOf(f));
    for (const doc of vscode.workspace.textDocuments) if (isActionsFile(doc.uri)) this.parseDocument(doc);
  }

  /** The latest parse of a folder's actions file, if it has one. */
  fileOf(folder: string): ParsedActionsFile | undefined {
    return this.parsed.get(actionsFileOf(folder));
  }

  /** Folders whose actions file has problems, with the first one, for the status bar. */
  problems(): { folder: string; count: number; first: string }[] {
    const out: { folder: string; count: number; first: string }[] = [];
    for (const [file, p] of this.parsed) {
      if (!p.problems.length) continue;
      const [first] = p.problems;
      out.push({ folder: path.dirname(path.dirname(file)), count: p.problems.length, first: `${path.join('.sdlc', ACTIONS_FILE)}:${first.line}:${first.column}: ${first.message}` });
    }
    return out;
  }

  /** Where an action is written, if the file defines it. */
  definition(folder: string, name: string): FileAction | undefined {
    return this.fileOf(folder)?.actions.find((a) => a.name === name);
  }

  async reveal(folder: string, name: string): Promise<boolean> {
    await this.parseDisk(actionsFileOf(folder));
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === actionsFileOf(folder));
    if (open) this.parseDocument(open);
    const def = this.definition(folder, name);
    if (!def && !fs.existsSync(actionsFileOf(folder))) return false;
    const pos = def ? new vscode.Position(def.at.line - 1, def.at.column - 1) : new vscode.Position(0, 0);
    await vscode.window.showTextDocument(vscode.Uri.file(actionsFileOf(folder)), { selection: new vscode.Range(pos, pos.translate(0, def?.name.length ?? 0)) });
    return def !== undefined;
  }

  /** The engine changed: lenses show run state, so redraw them (coalesced). */
  refreshLenses(): void {
    if (this.lensTimer || !vscode.workspace.textDocuments.some((d) => isActionsFile(d.uri))) return;
    this.lensTimer = setTimeout(() => {
      this.lensTimer = undefined;
      this.lensesChanged.fire();
    }, 200);
  }

  private diskChanged(uri: vscode.Uri): void {
    // An open document is what the user sees; its text is parsed as they type.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === uri.fsPath);
    if (open && !open.isDirty) this.parseDocument(open);
    else if (!open) void this.parseDisk(uri.fsPath);
  }

  private parseSoon(doc: vscode.TextDocument): void {
    clearTimeout(this.typing.get(doc.uri.fsPath));
    this.typing.set(
      doc.uri.fsPath,
      setTimeout(() => {
        this.typing.delete(doc.uri.fsPath);
        this.parseDocument(doc);
      }, TYPING_SETTLE_MS),
    );
  }

  private parseDocument(doc: vscode.TextDocument): void {
    if (doc.isClosed) return;
    void this.parse(doc.uri.fsPath, doc.getText());
  }

  private async parseDisk(file: string): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(file);
    } catch {
      this.set(file, undefined);
      return;
    }
    if (vscode.workspace.textDocuments.some((d) => d.uri.fsPath === file && d.isDirty)) return;
    await this.parse(file, bytes);
  }

  /** Parses (a large file off this thread); a result overtaken by a newer parse is dropped. */
  private async parse(file: string, content: string | Buffer): Promise<void> {
    const n = (this.generation.get(file) ?? 0) + 1;
    this.generation.set(file, n);
    try {
      const parsed = await parseActionsFileAsync(content, file, this.parseOptions());
      if (this.generation.get(file) === n) this.set(file, parsed);
    } catch (err) {
      this.ctx.log.error(`parsing ${file}`, err);
    }
  }

  private parseOptions() {
    return { now: Date.now(), defaultRunner: this.ctx.settings.defaultRunner };
  }

  private set(file: string, parsed: ParsedActionsFile | undefined): void {
    const hadProblems = (this.parsed.get(file)?.problems.length ?? 0) > 0;
    if (parsed) this.parsed.set(file, parsed);
    else this.parsed.delete(file);
    const uri = vscode.Uri.file(file);
    const errors = (parsed?.problems ?? []).map((p) => {
      const start = new vscode.Position(p.line - 1, p.column - 1);
      const end = p.endLine > p.line || p.endColumn > p.column ? new vscode.Position(p.endLine - 1, p.endColumn - 1) : start.translate(0, 1);
      const d = new vscode.Diagnostic(new vscode.Range(start, end), p.message, vscode.DiagnosticSeverity.Error);
      d.source = 'SDLC Orchestrator';
      return d;
    });
    this.diagnostics.set(uri, errors);
    if (parsed?.actions.some((a) => a.definition['after-task'] !== undefined)) {
      void this.unknownTasks(uri, parsed).then(
        (warnings) => this.parsed.get(file) === parsed && warnings.length && this.diagnostics.set(uri, [...errors, ...warnings]),
        (err) => this.ctx.log.warn(`listing the tasks for ${file}: ${(err as Error).message}`),
      );
    }
    if (hadProblems !== (parsed?.problems.length ?? 0) > 0) this.problemsChanged.fire();
    this.lensesChanged.fire();
    this.parsedEmitter.fire(path.dirname(path.dirname(file)));
  }

  /** A task label that tasks.json does not have is a warning, not an error: tasks come and go. */
  private async unknownTasks(uri: vscode.Uri, parsed: ParsedActionsFile): Promise<vscode.Diagnostic[]> {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    const labels = new Set(
      (await vscode.tasks.fetchTasks())
        .filter((t) => t.scope === vscode.TaskScope.Workspace || (typeof t.scope === 'object' && folder !== undefined && t.scope.uri.toString() === folder.uri.toString()))
        .map((t) => t.name),
    );
    return parsed.actions.flatMap((a) => {
      const label = a.definition['after-task'];
      const at = a.keys['after-task'];
      if (label === undefined || !at || labels.has(label)) return [];
      const d = new vscode.Diagnostic(
        new vscode.Range(at.line - 1, at.column - 1, at.endLine - 1, at.endColumn - 1),
        vscode.l10n.t('{0}: no task "{1}" in tasks.json; it runs once a task with that label ends (add the task, or fix the label)', a.name, label),
        vscode.DiagnosticSeverity.Warning,
      );
      d.source = 'SDLC Orchestrator';
      return [d];
    });
  }

  private codeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const parsed = this.parsed.get(doc.uri.fsPath);
    if (!parsed) {
      this.parseDocument(doc); // the lenses are asked for again once it is parsed
      return [];
    }
    const folder = path.dirname(path.dirname(doc.uri.fsPath));
    const orch = this.ctx.hosts.get(folder)?.orchestrator;
    let actions: ReturnType<NonNullable<typeof orch>['listActions']> = [];
    try {
      actions = orch?.listActions().filter((a) => a.source === 'file') ?? [];
    } catch {
      actions = [];
    }
    const byName = new Map(actions.map((a) => [a.name, a] as const));
    const now = Date.now();
    const lenses: vscode.CodeLens[] = [];
    for (const def of parsed.actions) {
      const action = byName.get(def.name);
      const last = action?.lastRunId ? orch?.store.getRun(action.lastRunId) : undefined;
      const range = new vscode.Range(def.at.line - 1, 0, def.at.line - 1, 0);
      for (const lens of lensesFor(def, action, last, parsed.problems.length > 0, now)) {
        const args =
          lens.command === 'sdlc.runFileAction' ? [folder, def.name]
          : lens.command === 'sdlc.showOutput' && last ? [{ id: `lens:${last.runId}`, kind: 'run', label: def.name, folder, actionId: last.actionId, runId: last.runId }]
          : lens.command === 'sdlc.approveActions' ? [{ id: `lens:${folder}`, kind: 'folder', label: '', folder }]
          : [];
        lenses.push(new vscode.CodeLens(range, { title: lens.title, command: lens.command ?? '', tooltip: lens.tooltip, arguments: args }));
      }
    }
    return lenses;
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const parsed = this.parsed.get(doc.uri.fsPath);
    for (const def of parsed?.actions ?? []) {
      const k = def.keys.cron;
      if (!k || def.definition.cron === undefined) continue;
      const range = new vscode.Range(k.line - 1, k.column - 1, k.endLine - 1, k.endColumn - 1);
      if (range.contains(pos)) return new vscode.Hover(new vscode.MarkdownString(cronHover(def.definition.cron, def.definition.tz, Date.now()), true), range);
    }
    return undefined;
  }

  dispose(): void {
    clearInterval(this.ageTimer);
    clearTimeout(this.lensTimer);
    for (const t of this.typing.values()) clearTimeout(t);
    this.disposables.forEach((d) => d.dispose());
  }
}
