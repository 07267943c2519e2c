// `node cases/panel.js ROWS`: what the orchestrator panel costs with ROWS finished runs. On the
// extension host (the thread every extension shares): reading the first page of history for
// the snapshot, every page, and one delta from the change feed. In the page: building the
// tree's rows from all ROWS runs, with and without a text filter, and after a pushed change.
'use strict';
const path = require('path');
const { REPO, core, medianTime, silent, noopRunner, folderWithHistory } = require('../lib');

const OUT = path.join(REPO, 'out');
const { historyPage, deltaOf, HISTORY_PAGE } = require(path.join(OUT, 'src', 'extension', 'model', 'panelData'));
const { PanelModel, visibleRows } = require(path.join(OUT, 'webview', 'viewModel'));
const { EMPTY_FILTER } = require(path.join(OUT, 'webview', 'protocol'));

(async () => {
  const rows = Number(process.argv[2] ?? 10_000);
  const ws = await folderWithHistory(rows);
  const { Orchestrator } = core('orchestrator');
  const o = await Orchestrator.create({
    workspace: ws,
    runners: { r: noopRunner(() => {}) },
    log: silent,
    webhook: false,
    tickMs: 100,
    retention: { maxAgeMs: 1e13, maxRuns: 1e9, maxEvents: 1e9 },
  });
  await o.start();

  // Host: the snapshot's first page, then all pages as the page asks for them.
  const first = medianTime(() => historyPage(o, undefined, HISTORY_PAGE));
  const all = medianTime(() => {
    const runs = [];
    let before;
    for (;;) {
      const page = historyPage(o, before, HISTORY_PAGE);
      runs.push(...page.runs);
      if (page.complete) return runs;
      before = page.runs[page.runs.length - 1];
    }
  }, 3);

  // Host: one commit's delta (a run that finishes).
  const batches = [];
  o.onEvents((events) => batches.push(events));
  const { actions } = await o.add({ name: 'bench', trigger: { kind: 'manual' }, run: { runner: 'r', command: 'true' } });
  await o.runNow(actions[0].id);
  const deadline = Date.now() + 10_000;
  while (!batches.some((b) => b.some((e) => e.type === 'task.completed')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  const completed = batches.find((b) => b.some((e) => e.type === 'task.completed'));
  const delta = medianTime(() => deltaOf(o, ws, completed), 20);
  await o.stop();

  // Page: the tree's rows from every run.
  const model = new PanelModel();
  const snapshot = { protocol: 1, folders: [], folder: ws, paused: false, actions: [], history: all.result, historyComplete: true, deliveries: [], lastSeq: 0, filter: EMPTY_FILTER };
  const load = medianTime(() => {
    model.load(snapshot);
    return visibleRows(model, EMPTY_FILTER, {}, Date.now());
  });
  const filtered = medianTime(() => visibleRows(model, { ...EMPTY_FILTER, text: 'job 42' }, {}, Date.now()));
  const patched = medianTime(() => {
    model.apply(delta.result);
    return visibleRows(model, EMPTY_FILTER, {}, Date.now());
  });
  console.log(
    JSON.stringify({
      rows,
      firstPageMs: first.ms,
      firstPageKiB: Buffer.byteLength(JSON.stringify(first.result.runs)) / 1024,
      allPagesMs: all.ms,
      deltaMs: delta.ms,
      treeRowsMs: load.ms,
      treeRowsDrawn: load.result.length,
      filterMs: filtered.ms,
      afterDeltaMs: patched.ms,
    }),
  );
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
