// The actions file at scale: `node cases/definitions.js N` (default 1,000 actions).
//   parse       reading N actions from YAML, with every value checked (ms)
//   create      the first reconciliation: N actions created, in one transaction (ms)
//   oneLine     a one-line change reconciled: time, and how many rows it wrote (must be 1 action)
//   unchanged   the same file again: time, rows written (must be 0)
//   saveToEvent a real engine: the file saved on disk to its task.updated event (watcher included)
//   maxStall    the longest the engine's thread was blocked meanwhile (a larger file is parsed
//               on a worker thread; the reconciliation runs on the tick)
'use strict';
const fs = require('fs');
const path = require('path');
const { core, median, stallProbe, tmpdir, silent } = require('../lib');

const { parseActionsFile } = core('definitions/actionsFile');
const { reconcile } = core('definitions/reconcile');
const { migrate } = core('store/schema');
const { Store } = core('store/store');
const { Transitions } = core('transitions');
const { loadSqlJs } = core('store/sqljs');
const { Orchestrator } = core('orchestrator');

/** N actions of every kind; action `a7`'s schedule is `minute`. */
function fileText(n, minute = 0) {
  const out = ['# generated for the benchmark', 'actions:'];
  for (let i = 0; i < n; i++) {
    out.push(`  a${i}:`, `    run: echo ${i} && npm run step-${i % 17}`);
    if (i === 7) {
      out.push(`    cron: "${minute} 3 * * 1-5"`);
      continue;
    }
    switch (i % 5) {
      case 0: out.push(`    cron: "${i % 60} ${i % 24} * * 1-5"`, '    tz: Europe/Berlin'); break;
      case 1: out.push(`    every: ${5 + (i % 50)}m`); break;
      case 2: out.push(`    webhook: hook-${i % 10}`); break;
      case 3: out.push(`    after: a${i - 1}`); break;
      default: out.push('    manual: true', '    timeout: 10m', '    max-attempts: 3');
    }
  }
  return out.join('\n') + '\n';
}

function time(fn) {
  const t0 = performance.now();
  const result = fn();
  return { ms: performance.now() - t0, result };
}

(async () => {
  const n = Number(process.argv[2] ?? 1000);
  const SQL = await loadSqlJs();
  const now = Date.now();
  const runs = { parse: [], create: [], oneLine: [], unchanged: [], saveToEvent: [], maxStall: [] };
  let rows = {};
  for (let rep = 0; rep < 3; rep++) {
    const text = fileText(n);
    const parsed = time(() => parseActionsFile(text, 'actions.yaml', { now }));
    if (parsed.result.problems.length) throw new Error(JSON.stringify(parsed.result.problems[0]));
    runs.parse.push(parsed.ms);

    const db = new SQL.Database();
    migrate(db);
    const store = new Store(db);
    const t = new Transitions(store, 'bench', () => 60_000);
    const opts = { now, isApproved: () => true };
    const created = time(() => reconcile(store, t, parsed.result, opts));
    store.commit();
    runs.create.push(created.ms);

    const changed = parseActionsFile(fileText(n, 30), 'actions.yaml', { now });
    const one = time(() => reconcile(store, t, changed, opts));
    const written = store.pendingOps();
    store.commit();
    runs.oneLine.push(one.ms);

    const again = time(() => reconcile(store, t, changed, opts));
    const writtenAgain = store.pendingOps();
    store.commit();
    runs.unchanged.push(again.ms);
    rows = {
      created: created.result.created.length,
      oneLineUpdated: one.result.updated,
      oneLineActionRowsWritten: written.filter(([name]) => name === 'updateAction' || name === 'updateDefinition').length,
      oneLineWrites: written.length,
      unchangedWrites: writtenAgain.length,
    };
    store.close();
    db.close();

    // The whole path in a real engine: save on disk → watcher → parse → reconcile → commit → event.
    const ws = tmpdir('definitions');
    fs.mkdirSync(path.join(ws, '.sdlc'));
    const file = path.join(ws, '.sdlc', 'actions.yaml');
    fs.writeFileSync(file, text);
    const o = await Orchestrator.create({ workspace: ws, runners: {}, log: silent, webhook: false, tickMs: 500 });
    await o.start();
    while (o.listActions().length < n) await new Promise((r) => setTimeout(r, 20));
    const seen = new Promise((resolve) => o.onEvents((events) => events.some((e) => e.type === 'task.updated') && resolve(performance.now())));
    const probe = stallProbe(2);
    const t0 = performance.now();
    fs.writeFileSync(file, fileText(n, 30));
    runs.saveToEvent.push((await seen) - t0);
    runs.maxStall.push(probe.stop());
    await o.stop();
    fs.rmSync(ws, { recursive: true, force: true });
  }
  const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [`${k}Ms`, median(v)]));
  process.stdout.write(JSON.stringify({ actions: n, ...med, ...rows, runs }) + '\n');
})().catch((err) => {
  process.stdout.write(JSON.stringify({ error: String(err && err.stack ? err.stack : err) }) + '\n');
  process.exit(1);
});
