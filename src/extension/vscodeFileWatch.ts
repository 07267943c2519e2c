// File-change triggers in VS Code use VS Code's own file watcher: it already watches the
// workspace in its own process, so the shared extension host never scans or watches the tree
// itself; it only receives the events for the folders our globs can match. A save in the
// editor is reported at once (the watcher takes up to a second to say it); the watcher's own
// report of that save is then recognized by the file's mtime and dropped.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { ignoredFolder, watchRoots } from '../core/triggers/globs';
import type { FileEvent, FileEventKind, FileWatcher, FileWatcherFactory } from '../core/triggers/fileWatch';

export const vscodeFileWatcher: FileWatcherFactory = (workspace, onEvent) => new VsCodeFileWatch(workspace, onEvent);

/** How long the watcher's report of a save is waited for. */
const ECHO_MS = 5000;

class VsCodeFileWatch implements FileWatcher {
  private watchers: vscode.Disposable[] = [];
  private key = '';
  /** Files just saved in the editor, with the mtime the save gave them. */
  private readonly saved = new Map<string, { mtimeMs: number; at: number }>();

  constructor(
    private readonly workspace: string,
    private readonly onEvent: (e: FileEvent) => void,
  ) {}

  private rel(uri: vscode.Uri): string {
    return path.relative(this.workspace, uri.fsPath).split(path.sep).join('/');
  }

  async update(globs: readonly string[]): Promise<void> {
    const roots = globs.length ? watchRoots(globs) : [];
    const key = JSON.stringify([roots, globs]);
    if (key === this.key) return;
    await this.close();
    this.key = key;
    if (!roots.length) return;
    const base = vscode.Uri.file(this.workspace);
    const wanted = (rel: string) => !rel.startsWith('..') && !path.isAbsolute(rel) && !ignoredFolder(rel, globs);
    for (const root of roots) {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, root ? `${root}/**` : '**'));
      const emit = (kind: FileEventKind) => (uri: vscode.Uri) => {
        const rel = this.rel(uri);
        if (!wanted(rel)) return;
        const at = Date.now();
        if (kind === 'deleted') return this.onEvent({ path: rel, kind, at });
        void fs.promises.stat(uri.fsPath).then(
          (s) => {
            const save = this.saved.get(rel);
            if (save && save.mtimeMs === s.mtimeMs) return; // the save we reported already
            this.onEvent({ path: rel, kind, at, mtimeMs: s.mtimeMs });
          },
          () => this.onEvent({ path: rel, kind: 'deleted', at }),
        );
      };
      this.watchers.push(w, w.onDidCreate(emit('created')), w.onDidChange(emit('changed')), w.onDidDelete(emit('deleted')));
    }
    this.watchers.push(
      vscode.workspace.onDidSaveTextDocument((doc) => {
        if (doc.uri.scheme !== 'file') return;
        const rel = this.rel(doc.uri);
        if (!wanted(rel)) return;
        const at = Date.now();
        void fs.promises.stat(doc.uri.fsPath).then(
          (s) => {
            for (const [p, v] of this.saved) if (at - v.at > ECHO_MS) this.saved.delete(p);
            this.saved.set(rel, { mtimeMs: s.mtimeMs, at });
            this.onEvent({ path: rel, kind: 'changed', at, mtimeMs: s.mtimeMs });
          },
          () => undefined,
        );
      }),
    );
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    for (const d of this.watchers.splice(0)) d.dispose();
    this.key = '';
  }
}
