// A worker thread that writes a snapshot without the owner's copy of the database: it loads
// the snapshot on disk, applies the journal's records up to the one it was asked for (exactly
// what a restart does) and writes the result to a temp file, fsynced. The owner's thread
// never calls export(), which at 500k history rows stalls it for over half a second; it only
// renames the file into place (see database.ts). A fresh worker per snapshot: wasm memory
// never shrinks, so a long-lived one would keep the largest database's size forever.
import * as fs from 'fs';
import { parentPort, workerData } from 'worker_threads';
import { fastBinder } from './fastBind';
import { readJournal } from './journal';
import { loadSqlJs, readDatabaseFile } from './sqljs';
import { Store } from './store';

const FLUSH_SLICE = 512 * 1024;

export interface SnapshotJob {
  wasm: string;
  db: string;
  journal: string;
  /** The last journal record the snapshot must hold (and no later one). */
  upTo: number;
  tmp: string;
}

export type SnapshotReply = { ok: true; bytes: number; exportMs: number } | { ok: false; error: string };

export async function writeSnapshotFile(job: SnapshotJob): Promise<SnapshotReply> {
  const SQL = await loadSqlJs(job.wasm);
  const read = readJournal(job.journal);
  const bytes = readDatabaseFile(job.db, 2 * read.bytes.length);
  if (!bytes) throw new Error(`the snapshot ${job.db} is missing`);
  const db = new SQL.Database(bytes);
  const store = new Store(db, fastBinder(db));
  try {
    let n = Number(store.getMeta('journal_n') ?? 0);
    if (n > job.upTo) throw new Error(`the snapshot on disk already holds record ${n}, past ${job.upTo}`);
    db.exec('BEGIN');
    for (const rec of read.records) {
      if (rec.n <= n) continue;
      if (rec.n > job.upTo) break;
      if (rec.n !== n + 1) throw new Error(`journal record ${n + 1} is missing (found ${rec.n})`);
      for (const [name, params] of rec.ops) store.execute(name, params);
      n = rec.n;
    }
    db.exec('COMMIT');
    if (n !== job.upTo) throw new Error(`the journal ends at record ${n}, before ${job.upTo}`);
    const started = performance.now();
    const bytes = db.export();
    const exportMs = performance.now() - started;
    if (!writeDirect(job.tmp, bytes)) writeBuffered(job.tmp, bytes);
    return { ok: true, bytes: bytes.length, exportMs };
  } finally {
    store.close();
  }
}

/**
 * Written in slices, each flushed before the next: dirty pages never pile up, so the owner's
 * journal fsyncs (one per commit, meanwhile) wait behind one slice at most, not the file.
 */
function writeBuffered(file: string, bytes: Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    let written = 0;
    while (written < bytes.length) {
      const end = Math.min(bytes.length, written + FLUSH_SLICE);
      while (written < end) written += fs.writeSync(fd, bytes, written, end - written);
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
function writeDirect(file: string, bytes: Uint8Array): boolean {
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
    for (let at = 0; at < bytes.length; at += FLUSH_SLICE) {
      const n = Math.min(FLUSH_SLICE, bytes.length - at);
      stage.set(bytes.subarray(at, at + n));
      const padded = Math.ceil(n / 4096) * 4096;
      if (padded > n) stage.fill(0, n, padded);
      let w = 0;
      while (w < padded) w += fs.writeSync(fd, stage, w, padded - w, at + w);
    }
    fs.ftruncateSync(fd, bytes.length);
    fs.fsyncSync(fd);
    return true;
  } finally {
    fs.closeSync(fd);
  }
}

if (parentPort && workerData?.snapshotJob) {
  writeSnapshotFile(workerData.snapshotJob as SnapshotJob).then(
    (reply) => parentPort!.postMessage(reply),
    (err: unknown) => parentPort!.postMessage({ ok: false, error: (err as Error)?.message ?? String(err) } satisfies SnapshotReply),
  );
}
