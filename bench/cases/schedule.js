// One measurement in its own process: `node cases/schedule.js SYSTEM latency|burst`.
// latency: 1,000 jobs due over 10 s → p50/p99/max of (start − due).
// burst:   10,000 jobs due at one moment → time until all started and all finished.
'use strict';
const systems = require('../systems');
const { stats } = require('../lib');

(async () => {
  const [system, mode] = process.argv.slice(2);
  const run = systems[system];
  if (!run) throw new Error(`unknown system ${system}`);
  let dues;
  if (mode === 'latency') {
    const t0 = Date.now() + 3000;
    dues = Array.from({ length: 1000 }, (_, i) => t0 + Math.round((i * 10_000) / 1000 + Math.random() * 10));
  } else {
    const t = Date.now() + 5000;
    dues = Array.from({ length: 10_000 }, () => t);
  }
  let result;
  try {
    result = await run(dues);
  } catch (err) {
    if (!err.partial) throw err;
    const started = err.partial.started.filter(Number.isFinite).length;
    process.stdout.write(JSON.stringify({ system, mode, error: err.message, startedCount: started }) + '\n');
    process.exit(0);
  }
  const late = result.started.map((s, i) => s - dues[i]).filter(Number.isFinite);
  const lost = dues.length - late.length; // jobs that never started (not expected of any system)
  const startedAt = result.started.filter(Number.isFinite);
  if (mode === 'latency') {
    process.stdout.write(JSON.stringify({ system, mode, ...stats(late), lost }) + '\n');
  } else {
    const due = dues[0];
    process.stdout.write(JSON.stringify({ system, mode, allStartedMs: Math.max(...startedAt) - due, allFinishedMs: result.finishedAt - due, firstStartMs: Math.min(...startedAt) - due, lost }) + '\n');
  }
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
