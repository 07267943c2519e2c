// Insight: `node cases/insight.js`.
// The Gantt view with 10,000 runs of 20 actions in the last hour: the host's query for the window
// (GET it as the panel does), laying the lanes out, and one frame's arithmetic (which bars the
// viewport shows, in pixels). The canvas's own drawing is measured in the real VS Code by e2e
// scenario 15 (it records each draw's time).
// Health: 100,000 runs of 1,000 actions: one action's health, every action's (what `stats` does
// in process), and the real `sdlc-orchestrator stats --json`, start-up included.
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');
const { REPO, core, medianTime, silent, noopRunner, folderWithHistory } = require('../lib');

const OUT = path.join(REPO, 'out');
const { layoutGantt, visibleBars, WINDOWS } = require(path.join(OUT, 'webview', 'ganttModel'));
const { healthOf } = core('health');
const CLI = path.join(REPO, 'bin', 'sdlc-orchestrator.js');

async function engineOn(ws) {
  const { Orchestrator } = core('orchestrator');
  const o = await Orchestrator.create({ workspace: ws, runners: { r: noopRunner(() => {}) }, log: silent, webhook: false, tickMs: 1000, retention: { maxAgeMs: 1e13, maxRuns: 1e9, maxEvents: 1e9 } });
  await o.start();
  return o;
}

(async () => {
  // 10,000 runs, one every 0.35 s: all within the last hour.
  const gws = await folderWithHistory(10_000, { spacingMs: 350, actions: 20 });
  let o = await engineOn(gws);
  const now = Date.now();
  // The panel reads it a page of 2,000 at a time (each page is one call on the extension host).
  const page = medianTime(() => o.store.ganttPage(now - WINDOWS.hour, now, undefined, 2000), 10);
  const query = medianTime(() => {
    const all = [];
    for (let p = o.store.ganttPage(now - WINDOWS.hour, now, undefined, 2000); ; ) {
      all.push(...p);
      if (p.length < 2000) return all;
      const last = p[p.length - 1];
      p = o.store.ganttPage(now - WINDOWS.hour, now, { endedAt: last.endedAt, runId: last.runId }, 2000);
    }
  });
  const runs = query.result;
  await o.stop();
  const layout = medianTime(() => layoutGantt(runs, now));
  const frame = medianTime(() => visibleBars(layout.result, { from: now - WINDOWS.hour, spanMs: WINDOWS.hour, widthPx: 1200 }, now), 20);
  const zoomed = medianTime(() => visibleBars(layout.result, { from: now - 300_000, spanMs: 300_000, widthPx: 1200 }, now), 20);

  const hws = await folderWithHistory(100_000, { actions: 1000, actionRows: true });
  o = await engineOn(hws);
  const one = medianTime(() => healthOf(o.store, 'a-500'), 20);
  const all = medianTime(() => o.store.actionsWithRuns(10_000).map((a) => healthOf(o.store, a.id)), 3);
  await o.stop();
  const cli = medianTime(() => spawnSync(process.execPath, [CLI, 'stats', '--workspace', hws, '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }), 3);
  const parsed = JSON.parse(cli.result.stdout);
  console.log(
    JSON.stringify({
      ganttRuns: runs.length,
      ganttPageMs: page.ms,
      ganttQueryMs: query.ms,
      ganttLayoutMs: layout.ms,
      ganttLanes: layout.result.lanes.length,
      ganttFrameMs: frame.ms,
      ganttFrameBars: frame.result.length,
      ganttZoomedFrameMs: zoomed.ms,
      healthOneMs: one.ms,
      healthAllMs: all.ms,
      healthActions: all.result.length,
      statsCliMs: cli.ms,
      statsCliActions: parsed.length,
    }),
  );
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
