// Start-up with a long history and a journal not yet folded into a snapshot:
//   node cases/startup.js prepare ROWS DIR   a folder with ROWS finished runs and 4,999 journal
//                                            records after its snapshot (the most before one is due),
//                                            left as a crash leaves it
//                                            (and the checkpoint a worker wrote meanwhile, if any)
//   node cases/startup.js measure DIR        load + recovery time, the longest the event loop
//                                            waited meanwhile, and RSS once started; from the
//                                            files as `prepare` left them each time (restored);
//                                            SDLC_BENCH_CHECKPOINT=off: without the checkpoint
//   node cases/startup.js follow DIR         the same for a follower's load (a second window)
'use strict';
const fs = require('fs');
const path = require('path');
const { core, silent, noopRunner, folderWithHistory, stallProbe } = require('../lib');

const NO_SNAPSHOT = { maxJournalRecords: 1e9, maxJournalBytes: 1e12, idleMs: 1e12, cheapExportMs: 0 };

async function open(ws, { Orchestrator } = core('orchestrator')) {
  const o = await Orchestrator.create({ workspace: ws, runners: { r: noopRunner(() => {}) }, log: silent, webhook: false, snapshotPolicy: NO_SNAPSHOT, retention: { maxAgeMs: 1e13, maxRuns: 1e9, maxEvents: 1e9 } });
  await o.start();
  return o;
}

/** The last journal record a checkpoint file holds (its header: see src/core/store/checkpoint.ts), or null. */
function checkpointUpTo(file) {
  if (!fs.existsSync(file)) return null;
  const buf = fs.readFileSync(file);
  const at = 'SDLC checkpoint 1\n'.length;
  return JSON.parse(buf.toString('utf8', at + 4, at + 4 + buf.readUInt32LE(at))).upTo;
}

/** The journal and checkpoint as `prepare` left them (the snapshot is never changed by a start here). */
function restore(ws) {
  const { sdlcPaths } = core('paths');
  const p = sdlcPaths(ws);
  const saved = path.join(ws, '.bench-crash');
  fs.copyFileSync(path.join(saved, path.basename(p.journal)), p.journal);
  fs.rmSync(p.checkpoint, { force: true });
  const checkpoint = path.join(saved, path.basename(p.checkpoint));
  if (fs.existsSync(checkpoint) && process.env.SDLC_BENCH_CHECKPOINT !== 'off') fs.copyFileSync(checkpoint, p.checkpoint);
  return checkpointUpTo(p.checkpoint);
}

(async () => {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'prepare') {
    const ws = await folderWithHistory(Number(a));
    const o = await open(ws);
    const { actions } = await o.add({ name: 'bench', trigger: { kind: 'manual' }, run: { runner: 'r', command: 'x' } });
    // One journal record each, leaving no work behind (runs queued now would run at start-up).
    // A turn of the event loop after each, as between requests that arrive from outside: the
    // engine's workers (checkpoints) report back, as they do while it runs.
    for (let i = 0; i < 4997; i++) {
      await (i % 2 ? o.resumeAction(actions[0].id) : o.pauseAction(actions[0].id));
      await new Promise((r) => setImmediate(r));
    }
    // The journal and checkpoint as the crash leaves them, for `measure` to start from each time
    // (a start rewrites the journal, and its worker may write a newer checkpoint).
    const saved = path.join(ws, '.bench-crash');
    fs.mkdirSync(saved);
    for (const f of [o.paths.journal, o.paths.checkpoint]) if (fs.existsSync(f)) fs.copyFileSync(f, path.join(saved, path.basename(f)));
    process.stdout.write(JSON.stringify({ ws, checkpointUpTo: checkpointUpTo(o.paths.checkpoint) }) + '\n');
    process.exit(0); // as a crash: no snapshot, the journal stays
  }
  if (mode === 'follow') {
    // A follower's load of the same folder (a second window): DurableDatabase.openReader.
    restore(a);
    const t0 = performance.now();
    const { DurableDatabase } = core('store/database');
    const SQL = await core('store/sqljs').loadSqlJs();
    const probe = stallProbe(1);
    const db = await DurableDatabase.openReader(SQL, core('paths').sdlcPaths(a), { mode: 'reader', log: silent, now: Date.now });
    const startupMs = performance.now() - t0;
    const longestStallMs = probe.stop();
    process.stdout.write(JSON.stringify({ startupMs, longestStallMs, rssPeakMb: process.resourceUsage().maxRSS / 1024, seq: db.store.lastSeq() }) + '\n');
    process.exit(0);
  }
  const fromCheckpoint = restore(a ?? b);
  const t0 = performance.now();
  const engine = core('orchestrator');
  // The longest the event loop waited while the engine loaded (its modules' loading aside).
  const probe = stallProbe(1);
  const o = await open(a ?? b, engine);
  const startupMs = performance.now() - t0;
  const longestStallMs = probe.stop();
  const rssMb = process.memoryUsage().rss / 1048576;
  const rssPeakMb = process.resourceUsage().maxRSS / 1024; // the most this process ever held, the load included
  const journal = require('fs').statSync(o.paths.journal).size;
  // The load's transient copies (the file read, sql.js's own) are freed by V8's memory
  // reducer once the process is quiet, within about ten seconds.
  await new Promise((r) => setTimeout(r, 12_000));
  const rssSettledMb = process.memoryUsage().rss / 1048576;
  process.stdout.write(JSON.stringify({ startupMs, longestStallMs, rssMb, rssPeakMb, rssSettledMb, journalBytes: journal, fromCheckpoint }) + '\n');
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
