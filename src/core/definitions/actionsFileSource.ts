// Watches `.sdlc/actions.yaml` for the folder's owner and hands each new version, parsed, to
// the tick that applies it. Reading and parsing happen off the tick; the tick only applies.
import * as fs from 'fs';
import * as path from 'path';
import type { Logger } from '../log';
import { Worker } from 'worker_threads';
import type { ParsedActionsFile, ParseOptions } from './actionsFile';
import { ACTIONS_FILE, MAX_FILE_BYTES, problemText, sha } from './keys';

/** The parser and the YAML library, loaded when there is a file to parse: 30 ms and 9 MB of the owner's start. */
const parser = () => import('./actionsFile');

/** Saves come as bursts of events (truncate, write, rename): read once they settle. */
const SETTLE_MS = 60;
/** Larger files are parsed on a worker thread: the YAML parser takes ~1 ms per 1.5 KiB. */
export const OFF_THREAD_BYTES = 16 * 1024;
const WORKER = path.join(__dirname, 'parseWorker.js');

/**
 * Parses without stalling the caller's thread for long: small files at once, large ones on a
 * worker thread (the same parser; the bundle ships it as parseWorker.js beside the extension).
 */
export async function parseActionsFileAsync(content: string | Buffer, file: string, opts: ParseOptions): Promise<ParsedActionsFile> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  if (bytes.length <= OFF_THREAD_BYTES || bytes.length > MAX_FILE_BYTES || !fs.existsSync(WORKER)) return (await parser()).parseActionsFile(content, file, opts);
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER, { workerData: { bytes, file, opts } });
    worker.once('message', (parsed: ParsedActionsFile) => {
      resolve(parsed);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`the parser thread exited with code ${code}`)));
  });
}

export function actionsFilePath(workspace: string): string {
  return path.join(workspace, '.sdlc', ACTIONS_FILE);
}

/** Reads and parses the file; a missing file defines nothing. */
export async function readActionsFile(file: string, opts: ParseOptions): Promise<ParsedActionsFile> {
  let bytes: Buffer;
  try {
    const stat = await fs.promises.stat(file);
    if (stat.isDirectory()) {
      return { file, actions: [], sha256: 'directory', problems: [{ line: 1, column: 1, endLine: 1, endColumn: 1, message: `${file} is a folder; the actions file must be a YAML file` }] };
    }
    bytes = await fs.promises.readFile(file);
  } catch (err) {
    // What parsing an empty file gives, without loading the parser for it.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { file, actions: [], problems: [], sha256: sha('') };
    return { file, actions: [], sha256: 'unreadable', problems: [{ line: 1, column: 1, endLine: 1, endColumn: 1, message: `cannot read ${file}: ${(err as Error).message}` }] };
  }
  return parseActionsFileAsync(bytes, file, opts);
}

export class ActionsFileSource {
  readonly file: string;
  private watcher: fs.FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private again = false;
  private pending: ParsedActionsFile | undefined;
  /** The latest version read, applied or not. */
  latest: ParsedActionsFile | undefined;
  private lastReported: string | undefined;

  constructor(
    workspace: string,
    private readonly parseOptions: () => ParseOptions,
    /** A new version is ready for take(). */
    private readonly onReady: () => void,
    private readonly log: Logger,
  ) {
    this.file = actionsFilePath(workspace);
  }

  /** Reads the file now and then on every change. */
  start(): Promise<void> {
    this.latest = undefined; // a new owner applies the file it finds, whatever an earlier one did
    if (!this.watcher) {
      // The folder, not the file (an editor's save may replace the file), with the events
      // filtered by name: the journal beside it changes at every commit, and a watcher that
      // rescans the folder on each of those (chokidar does, for a file that may not exist)
      // cost a 10,000-run burst over a second of lstat calls.
      const base = path.basename(this.file);
      try {
        const w = fs.watch(path.dirname(this.file), { persistent: false }, (_event, name) => {
          if (!name || name.toString() === base) this.changed();
        });
        w.on('error', (err) => this.log.warn(`watching ${this.file}: ${err.message}`));
        this.watcher = w;
      } catch (err) {
        this.log.warn(`watching ${this.file}: ${(err as Error).message}`);
      }
    }
    return this.read();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    const w = this.watcher;
    this.watcher = undefined;
    this.pending = undefined;
    w?.close();
  }

  /** A version was read and not yet applied (or is being read). */
  get busy(): boolean {
    return this.pending !== undefined || this.reading !== undefined;
  }

  /** The version not yet applied, once. */
  take(): ParsedActionsFile | undefined {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }

  /** Reads the file again soon (after a change event, or when asked). */
  changed(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.read(), SETTLE_MS);
  }

  read(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.again = false;
          const before = await statKey(this.file);
          const parsed = await readActionsFile(this.file, this.parseOptions());
          // Written to while we read it: read the finished version instead.
          if ((await statKey(this.file)) !== before) {
            this.again = true;
            continue;
          }
          // A touch, not a change: that version was handed over already.
          if (this.latest?.sha256 === parsed.sha256) continue;
          this.latest = parsed;
          this.pending = parsed;
          this.report(parsed);
          this.onReady();
        } while (this.again && this.watcher);
      } catch (err) {
        this.log.error(`reading ${this.file}`, err);
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  private report(parsed: ParsedActionsFile): void {
    const key = parsed.problems.length ? `${parsed.sha256}` : undefined;
    if (key && key !== this.lastReported) {
      const rel = path.join('.sdlc', ACTIONS_FILE);
      this.log.warn(`${rel} has ${parsed.problems.length} problem(s); nothing in it was applied, the actions it defined before keep running:\n${parsed.problems.map((p) => `  ${problemText(p, rel)}`).join('\n')}`);
    }
    this.lastReported = key;
  }
}

async function statKey(file: string): Promise<string> {
  try {
    const s = await fs.promises.stat(file);
    return `${s.size}:${s.mtimeMs}:${s.ino}`;
  } catch {
    return 'absent';
  }
}
