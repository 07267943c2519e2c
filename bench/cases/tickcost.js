// `node cases/tickcost.js ROWS`: with ROWS finished runs in the database, the CPU time of an
// idle tick, the time of the tick that applies retention (every run kept), the time to make
// one tick's transitions durable (its commit: one journal line and one fsync), and what the
// naive design pays instead (export the whole database, write it atomically).
'use strict';
const path = require('path');
const { core, median, silent, noopRunner, folderWithHistory } = require('../lib');

(async () => {
  const rows = Number(process.argv[2]);
  const ws = await folderWithHistory(rows);
  const { Orchestrator } = core('orchestrator');
  const o = await Orchestrator.create({
    workspace: ws,
    runners: { r: noopRunner(() => {}) },
    log: silent,
    webhook: false,
    tickMs: 3_600_000, // the loop stays out of the way; ticks are called one at a time below
    retention: { maxAgeMs: 1e13, maxRuns: 1e9, maxEvents: 1e9 },
    snapshotPolicy: { maxJournalRecords: 1e9, maxJournalBytes: 1e12, idleMs: 1e12, cheapExportMs: 0 },
  });
  await o.start();
  const tick = () => o['tick']();
  await new Promise((r) => setTimeout(r, 200));
  tick();

  // Idle: nothing due, nothing running. CPU time per tick, ticks spaced out like the real loop's.
  const idle = [];
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setTimeout(r, 5));
    const c = process.cpuUsage();
    tick();
    const d = process.cpuUsage(c);
    idle.push((d.user + d.system) / 1000);
  }

  // The tick that applies retention (once a minute), with every run kept (the retention above):
  // what it costs must not grow with the history it keeps.
  const prune = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 20));
    o['nextPruneAt'] = 0;
    const t = performance.now();
    tick();
    prune.push(performance.now() - t);
  }

  // Durable: a tick that starts one run, and the tick that records its end. Time of each commit.
  const db = o['db'];
  const commits = [];
  const commit = db.commit.bind(db);
  db.commit = () => {
    const t = performance.now();
    const r = commit();
    if (r) commits.push(performance.now() - t);
    return r;
  };
  const { actions } = await o.add({ name: 'bench', trigger: { kind: 'manual' }, run: { runner: 'r', command: 'x' } });
  commits.length = 0;
  for (let i = 0; i < 50; i++) {
    await o.runNow(actions[0].id);
    tick(); // claims it: marked running, durably, before the runner is called
    await new Promise((r) => setImmediate(r));
    tick(); // records its end
  }
  db.commit = commit;

  // The naive design at this size: export() + temp file + fsync + rename + folder fsync.
  const { writeFileAtomic } = core('store/atomicFile');
  const naive = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    writeFileAtomic(path.join(ws, 'naive.db'), db.store.db.export());
    naive.push(performance.now() - t);
  }
  process.stdout.write(JSON.stringify({ rows, idleTickCpuMs: median(idle), pruneTickMs: median(prune), pruneTickMaxMs: Math.max(...prune), durableCommitMs: median(commits), durableCommitP99Ms: commits.sort((a, b) => a - b)[Math.floor(commits.length * 0.99)], naiveSaveMs: median(naive) }) + '\n');
  await o.stop();
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
