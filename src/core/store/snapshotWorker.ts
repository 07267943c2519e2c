// A worker thread that writes a snapshot without the owner's copy of the database: it loads
// the snapshot on disk, applies the journal's records up to the one it was asked for (exactly
// what a restart does) and writes the result to a temp file, fsynced. The owner's thread
// never calls export(), which at 500k history rows stalls it for over half a second; it only
// renames the file into place (see database.ts). A fresh worker per snapshot: wasm memory
// never shrinks, so a long-lived one would keep the largest database's size forever.
import * as fs from 'fs';
import { parentPort, workerData } from 'worker_threads';
import { readJournal } from './journal';
import { loadSqlJs } from './sqljs';
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
  const db = new SQL.Database(fs.readFileSync(job.db));
  const store = new Store(db);
  try {
    let n = Number(store.getMeta('journal_n') ?? 0);
    if (n > job.upTo) throw new Error(`the snapshot on disk already holds record ${n}, past ${job.upTo}`);
    const read = readJournal(job.journal);
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
    const fd = fs.openSync(job.tmp, 'w');
    try {
      // In slices, each flushed before the next: dirty pages never pile up, so the owner's
      // journal fsyncs (one per commit, meanwhile) wait behind one slice at most, not the file.
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
    return { ok: true, bytes: bytes.length, exportMs };
  } finally {
    store.close();
  }
}

if (parentPort && workerData?.snapshotJob) {
  writeSnapshotFile(workerData.snapshotJob as SnapshotJob).then(
    (reply) => parentPort!.postMessage(reply),
    (err: unknown) => parentPort!.postMessage({ ok: false, error: (err as Error)?.message ?? String(err) } satisfies SnapshotReply),
  );
}
