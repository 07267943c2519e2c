// A worker thread that writes a snapshot without the owner's copy of the database: it loads
// the snapshot on disk, applies the journal's records up to the one it was asked for (exactly
// what a restart does) and writes the result to a temp file, fsynced. The owner's thread
// never calls export(), which at 500k history rows stalls it for over half a second; it only
// renames the file into place (see database.ts). A fresh worker per snapshot: wasm memory
// never shrinks, so a long-lived one would keep the largest database's size forever.
//
// Where the owner pages its snapshot, so does the worker (pagedFile.ts), and it writes the new
// file from its pages, a slice at a time: the blocks the records wrote, and the rest copied
// from the file on disk. Read whole and exported, the database was in the process twice more
// while a snapshot was written: +149 MB at 100k history rows and +571 MB at 500k, in the
// extension host's process; paged, +29–37 MB.
import * as fs from 'fs';
import * as os from 'os';
import { parentPort, workerData } from 'worker_threads';
import type { SqlJsStatic } from 'sql.js';
import { checkpointSource, type CheckpointUse, type SequentialSource } from './checkpoint';
import { fastBinder } from './fastBind';
import { readJournal } from './journal';
import { LastStateReplay } from './lastStateReplay';
import { openPaged } from './pagedFile';
import { loadSqlJs, readDatabaseFile } from './sqljs';
import { Store } from './store';

const FLUSH_SLICE = 512 * 1024;

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

export interface SnapshotJob {
  wasm: string;
  db: string;
  journal: string;
  /** The last journal record the snapshot must hold (and no later one). */
  upTo: number;
  tmp: string;
  /** Page the database from `db` and write the snapshot from its pages (see pagedFile.ts). */
  paged?: boolean;
  /** The checkpoint to lay over `db` before the records (checkpoint.ts); passed over when made on another snapshot. */
  checkpoint?: string;
  /** What to write to `tmp`: the whole database (the default), or a checkpoint (paged only): the blocks that differ from `db`. */
  write?: 'snapshot' | 'checkpoint';
  /** Where in the journal the records after the checkpoint begin: read from there when the checkpoint is laid over (else from the start). */
  checkpointOffset?: number;
}

/** `exportMs`: how long export() took; none when the snapshot was written from pages, without one. */
export type SnapshotReply = { ok: true; bytes: number; exportMs?: number } | { ok: false; error: string };

/** The snapshot on disk, with the job's checkpoint laid over it when it was made on it and holds what it says. */
function openDatabase(SQL: SqlJsStatic, job: SnapshotJob, journalBytes: number, withCheckpoint: boolean): { store: Store; paged?: ReturnType<typeof openPaged>; n: number; laidOver: boolean } {
  const use: CheckpointUse | undefined = withCheckpoint && job.checkpoint ? { file: job.checkpoint } : undefined;
  const paged = job.paged ? openPaged(job.db, use) : undefined;
  const bytes = job.paged ? paged?.bytes : readDatabaseFile(job.db, 2 * journalBytes, use);
  if (!bytes) throw new Error(`the snapshot ${job.db} is missing`);
  let store: Store;
  try {
    const db = new SQL.Database(bytes);
    store = new Store(db, fastBinder(db));
  } catch (err) {
    paged?.paged.dispose();
    throw err;
  }
  let n: number;
  try {
    n = Number(store.getMeta('journal_n') ?? 0);
  } catch (err) {
    if (use?.upTo === undefined) throw err;
    n = -1; // unreadable with the checkpoint over it (never expected): passed over, as below
  }
  if (use?.upTo !== undefined && n !== use.upTo) {
    // Never expected: a checkpoint whose blocks do not hold the record it names is passed over.
    store.close();
    paged?.paged.dispose();
    return openDatabase(SQL, job, journalBytes, false);
  }
  return { store, paged, n, laidOver: use?.upTo !== undefined };
}

export async function writeSnapshotFile(job: SnapshotJob): Promise<SnapshotReply> {
  const SQL = await loadSqlJs(job.wasm);
  const opened = openDatabase(SQL, job, fileSize(job.journal), true);
  const { store, paged } = opened;
  const { db } = store;
  try {
    // The records the checkpoint holds are skipped unread; without it, every record is needed.
    const read = readJournal(job.journal, opened.laidOver ? (job.checkpointOffset ?? 0) : 0);
    let n = opened.n;
    if (n > job.upTo) throw new Error(`the snapshot on disk already holds record ${n}, past ${job.upTo}`);
    db.exec('BEGIN');
    const replay = new LastStateReplay((name, params) => store.execute(name, params));
    for (const rec of read.records) {
      if (rec.n <= n) continue;
      if (rec.n > job.upTo) break;
      if (rec.n !== n + 1) throw new Error(`journal record ${n + 1} is missing (found ${rec.n})`);
      for (const op of rec.ops) replay.apply(op);
      n = rec.n;
    }
    replay.flush();
    db.exec('COMMIT');
    if (n !== job.upTo) throw new Error(`the journal ends at record ${n}, before ${job.upTo}`);
    if (job.write === 'checkpoint') {
      if (!paged) throw new Error('a checkpoint is written from a paged database');
      const size = Number(db.exec('PRAGMA page_count')[0].values[0][0]) * Number(db.exec('PRAGMA page_size')[0].values[0][0]);
      const checkpoint = checkpointSource(paged.identity, job.upTo, size, paged.paged.heldBlocks());
      if (!writeDirect(job.tmp, checkpoint)) writeBuffered(job.tmp, checkpoint);
      return { ok: true, bytes: checkpoint.size };
    }
    let source: SequentialSource;
    let exportMs: number | undefined;
    if (paged) {
      // Committed, every change is in the file (the rollback journal is kept in memory, and
      // syncs are off): its pages are the snapshot, as many as the database counts.
      const pages = Number(db.exec('PRAGMA page_count')[0].values[0][0]);
      const pageSize = Number(db.exec('PRAGMA page_size')[0].values[0][0]);
      source = { size: pages * pageSize, fill: (into, at) => paged.paged.copyTo(into, at) };
    } else {
      const started = performance.now();
      const whole = db.export();
      exportMs = performance.now() - started;
      source = { size: whole.length, fill: (into, at) => into.set(whole.subarray(at, at + into.length)) };
    }
    if (!writeDirect(job.tmp, source)) writeBuffered(job.tmp, source);
    return { ok: true, bytes: source.size, exportMs };
  } finally {
    store.close();
    paged?.paged.dispose();
  }
}

/**
 * Written in slices, each flushed before the next: dirty pages never pile up, so the owner's
 * journal fsyncs (one per commit, meanwhile) wait behind one slice at most, not the file.
 */
function writeBuffered(file: string, source: SequentialSource): void {
  const fd = fs.openSync(file, 'w');
  try {
    const slice = new Uint8Array(Math.min(FLUSH_SLICE, source.size));
    for (let at = 0; at < source.size; at += FLUSH_SLICE) {
      const n = Math.min(FLUSH_SLICE, source.size - at);
      const part = slice.subarray(0, n);
      source.fill(part, at);
      let w = 0;
      while (w < n) w += fs.writeSync(fd, part, w, n - w, at + w);
      fs.fdatasyncSync(fd);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Where the system has it (Linux), O_DIRECT: the file's pages never enter the page cache, so
 * the owner's journal fsyncs (which, on ext4, flush the data of the whole running
 * transaction) have nothing of ours to wait for. It needs the memory and the file offsets
 * aligned to the device's block: each slice is copied into an aligned staging area (found by
 * trying offsets; Node has no aligned allocation) and the last, padded, is cut back by
 * ftruncate. False, having written nothing that matters, where it is refused.
 */
function writeDirect(file: string, source: SequentialSource): boolean {
  const O_DIRECT = (fs.constants as { O_DIRECT?: number }).O_DIRECT;
  if (!O_DIRECT || process.env.SDLC_SNAPSHOT_DIRECT === 'off') return false;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | O_DIRECT, 0o644);
  } catch {
    return false;
  }
  try {
    const area = Buffer.allocUnsafeSlow(FLUSH_SLICE + 4096);
    let stage: Buffer | undefined;
    for (let off = 0; off < 4096 && !stage; off += 16) {
      try {
        fs.writeSync(fd, area, off, FLUSH_SLICE, 0);
        stage = area.subarray(off, off + FLUSH_SLICE);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
      }
    }
    if (!stage) return false;
    for (let at = 0; at < source.size; at += FLUSH_SLICE) {
      const n = Math.min(FLUSH_SLICE, source.size - at);
      source.fill(stage.subarray(0, n), at);
      const padded = Math.ceil(n / 4096) * 4096;
      if (padded > n) stage.fill(0, n, padded);
      let w = 0;
      while (w < padded) w += fs.writeSync(fd, stage, w, padded - w, at + w);
    }
    fs.ftruncateSync(fd, source.size);
    fs.fsyncSync(fd);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A checkpoint only saves a later start some replay: its worker thread yields the CPU to
 * everything else (the owner's thread, the runs it spawns), taking what is left over. Linux
 * sets a nice value per thread; this thread's id is the last part of /proc/thread-self.
 * Elsewhere, or if refused, it runs as any thread.
 */
function yieldTheCpu(): void {
  try {
    const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, os.constants.priority.PRIORITY_LOW);
  } catch {
    // not Linux, or not allowed: the same priority as the rest of the process
  }
}

if (parentPort && workerData?.snapshotJob) {
  const job = workerData.snapshotJob as SnapshotJob;
  if (job.write === 'checkpoint') yieldTheCpu();
  writeSnapshotFile(job).then(
    (reply) => parentPort!.postMessage(reply),
    (err: unknown) => parentPort!.postMessage({ ok: false, error: (err as Error)?.message ?? String(err) } satisfies SnapshotReply),
  );
}
