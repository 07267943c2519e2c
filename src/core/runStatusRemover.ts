// Removing the status files of runs whose end is committed, on one low-priority worker thread.
//
// Measured in a 10,000-run burst: five unlinks a run on libuv's four threads made the shells of
// the next runs use about 15 % more CPU, and the burst as much longer. Each shell creates its
// status and output files in the same folder, and an unlink holds that folder's lock (even to find
// nothing), which the creating shells then spin on. One thread removing them one at a time
// contends with one shell at most; at nice 10 it runs on what CPU the burst leaves; and a file
// that is rarely there (the changed-files list, the outputs file, an older wrapper's exit file)
// is looked up, which takes no lock, before it is unlinked.
import * as fs from 'fs';
import { Worker } from 'worker_threads';
import { runStatusFiles } from './runStatus';

/** A worker thread holds a few MB: it is ended when nothing has been removed for this long. */
const RETIRE_AFTER_MS = 30_000;

/** The worker, run from this source (nothing to bundle). Its priority is lowered where the system lets a thread have its own (Linux). */
const WORKER_SOURCE = `
const { parentPort } = require('worker_threads');
const fs = require('fs');
const os = require('os');
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) os.setPriority(tid, 10);
} catch {}
parentPort.on('message', ({ id, remove, removeIfThere }) => {
  let error;
  const unlink = (file) => {
    try { fs.unlinkSync(file); } catch (err) { if (err.code !== 'ENOENT' && error === undefined) error = err.message; }
  };
  for (const file of remove) unlink(file);
  for (const file of removeIfThere) if (fs.existsSync(file)) unlink(file);
  parentPort.postMessage({ id, error });
});
`;

interface Request {
  remove: string[];
  removeIfThere: string[];
  resolve: (err: Error | undefined) => void;
}

class RunStatusRemover {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 1;
  private readonly pending = new Map<number, Request>();
  private retireTimer: NodeJS.Timeout | undefined;

  /**
   * Removes the runs' files; resolves with the first unexpected error. A pending removal keeps
   * the process alive (the CLI exits with nothing left behind); an idle worker never does.
   */
  remove(dir: string, runIds: Iterable<string>): Promise<Error | undefined> {
    const remove: string[] = [];
    const removeIfThere: string[] = [];
    for (const runId of runIds) {
      const f = runStatusFiles(dir, runId);
      remove.push(f.pid, f.out);
      removeIfThere.push(f.legacyExit, f.changed, f.output);
    }
    if (remove.length === 0) return Promise.resolve(undefined);
    const worker = this.started();
    if (!worker) return removeHere([...remove, ...removeIfThere]);
    clearTimeout(this.retireTimer);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, { remove, removeIfThere, resolve });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, remove, removeIfThere });
    });
  }

  private started(): Worker | undefined {
    if (this.worker) return this.worker;
    if (this.broken) return undefined;
    try {
      const worker = new Worker(WORKER_SOURCE, { eval: true, name: 'sdlc-orchestrator run file removal' });
      worker.on('message', (reply: { id: number; error?: string }) => this.answered(reply));
      worker.on('error', () => this.lose(worker));
      worker.on('exit', () => this.lose(worker));
      worker.unref(); // after the listeners (which ref it); a pending removal refs it again
      this.worker = worker;
      return worker;
    } catch {
      this.broken = true;
      return undefined;
    }
  }

  private answered(reply: { id: number; error?: string }): void {
    const req = this.pending.get(reply.id);
    if (!req) return;
    this.pending.delete(reply.id);
    req.resolve(reply.error === undefined ? undefined : new Error(reply.error));
    if (this.pending.size === 0 && this.worker) {
      this.worker.unref();
      this.retireTimer = setTimeout(() => this.retire(), RETIRE_AFTER_MS);
      this.retireTimer.unref();
    }
  }

  private retire(): void {
    const worker = this.worker;
    if (!worker || this.pending.size) return;
    this.worker = undefined; // its exit is then not a loss: the next removal starts a new one
    void worker.terminate();
  }

  /** The worker died: what it was asked is done here, and so is everything after. */
  private lose(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.broken = true;
    const left = [...this.pending.values()];
    this.pending.clear();
    for (const req of left) void removeHere([...req.remove, ...req.removeIfThere]).then(req.resolve);
  }
}

/** Without the worker: each file unlinked on libuv's threads. */
function removeHere(files: string[]): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let left = files.length;
    let failure: Error | undefined;
    if (left === 0) return resolve(undefined);
    for (const file of files) {
      fs.unlink(file, (err) => {
        if (err && err.code !== 'ENOENT') failure ??= err;
        if (--left === 0) resolve(failure);
      });
    }
  });
}

const remover = new RunStatusRemover();

/**
 * Removed once the run's end is committed, off this thread. The engine's stop waits for them.
 * (A run ended here has no tombstone to keep: its shell is gone, seen to exit or killed.)
 */
export function removeRunStatus(dir: string, runIds: Iterable<string>): Promise<Error | undefined> {
  return remover.remove(dir, runIds);
}
