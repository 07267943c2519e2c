// The event-loop stall while a snapshot is written, on this thread (the old path) and in a worker:
//   node cases/snapshot.js ROWS   → { worker: {...}, main: {...} }, each measured in a process of its own
// A folder with ROWS finished runs; the owner commits small transactions (pausing and resuming
// one action, one every 2 ms as a busy folder would) until the journal reaches the 5,000
// records that make a snapshot due, and on until the snapshot is on disk. Measured from the
// first commit of the window to 200 ms after the journal was emptied:
// perf_hooks.monitorEventLoopDelay (max, p99) and a 1 ms heartbeat (its longest gap).
'use strict';
const fs = require('fs');
const path = require('path');
const { monitorEventLoopDelay } = require('perf_hooks');
const { core, silent, noopRunner, folderWithHistory, stallProbe } = require('../lib');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function measure(ws, mode) {
  const { Orchestrator } = core('orchestrator');
  const policy = { maxJournalRecords: 5000, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: mode === 'main' ? 1e9 : 8 };
  const o = await Orchestrator.create({ workspace: ws, runners: { r: noopRunner(() => {}) }, log: silent, webhook: false, snapshotPolicy: policy, retention: { maxAgeMs: 1e13, maxRuns: 1e9, maxEvents: 1e9 } });
  await o.start();
  const db = o['db'];
  const { actions } = await o.add({ name: 'bench', trigger: { kind: 'manual' }, run: { runner: 'r', command: 'x' } });
  const id = actions[0].id;
  const journal = () => db['journal'].recordCount;
  // Up to just before the snapshot falls due, unmeasured.
  for (let i = 0; journal() < 4950; i++) await (i % 2 ? o.resumeAction(id) : o.pauseAction(id));
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const probe = stallProbe(1);
  // The process's memory while the snapshot is written (the worker's copy of the database is in it).
  const rssBefore = process.memoryUsage.rss();
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 5);
  const t0 = performance.now();
  let snapshotAt = 0;
  let doneAt = 0;
  let duringCommits = 0;
  let peak = 0;
  for (let i = 0; ; i++) {
    await (i % 2 ? o.resumeAction(id) : o.pauseAction(id));
    const n = journal();
    peak = Math.max(peak, n);
    if (!snapshotAt && (db.snapshotting || n < peak)) snapshotAt = performance.now();
    if (snapshotAt && !doneAt) {
      if (db.snapshotting) duringCommits++;
      else if (n < peak) doneAt = performance.now();
    }
    if (doneAt && performance.now() - doneAt > 200) break;
    if (performance.now() - t0 > 60_000) throw new Error('no snapshot within a minute');
    await sleep(2);
  }
  const heartbeatMaxMs = probe.stop();
  clearInterval(sampler);
  h.disable();
  const size = fs.statSync(o.paths.db).size;
  // What the owner holds once the snapshot is in place (it pages its database from the file it loaded).
  const rssAfterMb = process.memoryUsage().rss / 1048576;
  await o.stop();
  return {
    stallMaxMs: h.max / 1e6,
    stallP99Ms: h.percentile(99) / 1e6,
    heartbeatMaxMs,
    snapshotMs: doneAt - snapshotAt,
    commitsDuringSnapshot: duringCommits,
    dbMb: size / 1048576,
    rssAfterMb,
    rssBeforeMb: rssBefore / 1048576,
    rssPeakMb: rssPeak / 1048576,
  };
}

/** `node cases/snapshot.js MODE ARGS` in a process of its own: its memory is the measured part's alone. */
function child(args) {
  const r = require('child_process').spawnSync(process.execPath, [__filename, ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  const line = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !line) throw new Error(`snapshot.js ${args.join(' ')}: ${(r.stderr || `exit ${r.status}`).trim()}`);
  return JSON.parse(line);
}

(async () => {
  const [first, second, third] = process.argv.slice(2);
  if (first === 'build') {
    process.stdout.write(JSON.stringify({ ws: await folderWithHistory(Number(second)) }) + '\n');
    return;
  }
  if (first === 'measure') {
    process.stdout.write(JSON.stringify(await measure(second, third)) + '\n');
    process.exit(0);
  }
  const rows = Number(first ?? 100000);
  // Built in another process: building 500k rows leaves hundreds of MB in the builder's.
  const { ws } = child(['build', String(rows)]);
  const copy = `${ws}-main`;
  fs.cpSync(ws, copy, { recursive: true });
  // Both folders on disk before measuring: writeback of the copy would slow every fsync after.
  require('child_process').spawnSync('sync');
  const worker = child(['measure', ws, 'worker']);
  require('child_process').spawnSync('sync');
  const main = child(['measure', copy, 'main']);
  for (const d of [ws, copy]) fs.rmSync(d, { recursive: true, force: true });
  process.stdout.write(JSON.stringify({ rows, worker, main }) + '\n');
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
