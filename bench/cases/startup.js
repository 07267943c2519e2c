// Start-up with a long history and a journal not yet folded into a snapshot:
//   node cases/startup.js prepare ROWS DIR   a folder with ROWS finished runs and 4,999 journal
//                                            records after its snapshot (the most before one is due),
//                                            left as a crash leaves it
//   node cases/startup.js measure DIR        load + recovery time, the longest the event loop
//                                            waited meanwhile, and RSS once started
//   node cases/startup.js follow DIR         the same for a follower's load (a second window)
'use strict';
const { core, silent, noopRunner, folderWithHistory, stallProbe } = require('../lib');

const NO_SNAPSHOT = { maxJournalRecords: 1e9, maxJournalBytes: 1e12, idleMs: 1e12, cheapExportMs: 0 };

async function open(ws, { Orchestrator } = core('orchestrator')) {
  const o = await Orchestrator.create({ workspace: ws, runners: { r: noopRunner(() => {}) }, log: silent, webhook: false, snapshotPolicy: NO_SNAPSHOT, retention: { maxAgeMs: 1e13, maxRuns: 1e9, maxEvents: 1e9 } });
  await o.start();
  return o;
}

(async () => {
  const [mode, a, b] = process.argv.slice(2);
  if (mode === 'prepare') {
    const ws = await folderWithHistory(Number(a));
    const o = await open(ws);
    const { actions } = await o.add({ name: 'bench', trigger: { kind: 'manual' }, run: { runner: 'r', command: 'x' } });
    // One journal record each, leaving no work behind (runs queued now would run at start-up).
    for (let i = 0; i < 4997; i++) await (i % 2 ? o.resumeAction(actions[0].id) : o.pauseAction(actions[0].id));
    process.stdout.write(JSON.stringify({ ws }) + '\n');
    process.exit(0); // as a crash: no snapshot, the journal stays
  }
  if (mode === 'follow') {
    // A follower's load of the same folder (a second window): DurableDatabase.openReader.
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
  process.stdout.write(JSON.stringify({ startupMs, longestStallMs, rssMb, rssPeakMb, rssSettledMb, journalBytes: journal }) + '\n');
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
