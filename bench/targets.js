// The performance targets (the floor and the best peer, measured in the same run), alone:
// `npm run bench:targets` (about 4 minutes; `--quick`: one run each). `npm run bench` prints
// the same table as its section 16 from its own measurements.
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { median } = require('./lib');

const f = (v, digits = 2) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const mark = (ok) => (ok ? '✓' : '✗');

function table(headers, rows) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(w[i])).join(' | ')} |`;
  return [line(headers), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Section 16: each target with ✓ or ✗, from one run's results (latency, burst, snapshot, startup). */
function targetsTable(results) {
  const B = results.burst;
  const spawnFloorMs = B['spawn floor']?.allFinishedMs;
  const processMs = B['engine+process']?.allFinishedMs;
  // Run in turns with the floor where the run did so (burstPairs); else the ratio of the medians.
  const ratio = B.ratio ?? processMs / spawnFloorMs;
  const e = results.latency.engine ?? {};
  const bsq = results.latency['better-sqlite3']?.p50;
  const SN = results.snapshot;
  const stall500 = SN[500000]?.worker;
  const stall100 = SN[100000]?.worker;
  const S5 = results.startup;
  const SW = results.startupWhole;
  const SN0 = results.startupNoCheckpoint;
  const W = results.wake ?? {};
  return table(
    ['what', 'now', 'floor or best peer, same run', 'target', ''],
    [
      ['event-loop stall while a snapshot is written (max / p99)', `${f(stall100?.stallMaxMs, 1)} / ${f(stall100?.stallP99Ms, 1)} ms at 100k, ${f(stall500?.stallMaxMs, 1)} / ${f(stall500?.stallP99Ms, 1)} ms at 500k (on the owner's thread: ${f(SN[100000]?.main?.stallMaxMs, 0)} and ${f(SN[500000]?.main?.stallMaxMs, 0)} ms); RSS peak while written ${f(stall100?.rssPeakMb, 0)} and ${f(stall500?.rssPeakMb, 0)} MB`, '0', 'no stall over 20 ms at 500k', mark(stall500?.stallMaxMs <= 20 && stall500?.stallP99Ms <= 20)],
      ['10,000 runs due at once, process runner, default concurrency', `${f(processMs / 1000, 1)} s (${f(processMs / 10000, 2)} ms a run)`, `spawn floor: ${f(spawnFloorMs / 1000, 1)} s (${f(spawnFloorMs / 10000, 2)} ms a run)`, `within 1.3× the floor: ${f(ratio, 2)}×${B.ratios ? ` (pairs run in turns: ${B.ratios.map((r) => f(r, 2)).join(', ')})` : ''}`, mark(ratio <= 1.3)],
      ['due-to-start latency p50, no-op runner', `${f(e.p50)} ms${W.precise ? ` (the wake-up alone: ${f(W.precise.p50)} ms; setTimeout's: ${f(W.setTimeout?.p50)} ms)` : ''}`, `better-sqlite3 (WAL, synchronous=FULL): ${f(bsq)} ms`, 'at or below better-sqlite3', mark(e.p50 <= bsq)],
      ['start-up, 100k finished runs and a 4,999-record journal', `${f(S5.startupMs, 0)} ms from the checkpoint of record ${f(S5.fromCheckpoint, 0)} a worker wrote before the crash (with none, the whole journal replayed: ${f(SN0?.startupMs, 0)} ms); the event loop waited ${f(S5.longestStallMs, 0)} ms at most meanwhile; RSS peak ${f(S5.rssPeakMb, 0)} MB, settled ${f(S5.rssSettledMb, 0)} MB${SW?.rssPeakMb ? ` (snapshot read whole: ${f(SW.startupMs, 0)} ms, peak ${f(SW.rssPeakMb, 0)} MB)` : ''}`, '—', '250 ms, RSS under 150 MB at every moment', mark(S5.startupMs <= 250 && S5.rssPeakMb < 150 && S5.rssSettledMb < 150)],
    ],
  );
}

/**
 * The burst and its floor, run in turns (floor, engine, floor, engine...): the machine's speed
 * drifts by more than the margin being measured, and a pair run back to back sees the same
 * machine. Each side's figures are medians; `ratio` is the median of the pairs' ratios.
 */
function burstPairs(runs, runCase) {
  const pairs = [];
  for (let i = 0; i < runs; i++) {
    const floor = runCase(['schedule.js', 'spawn floor', 'burst']);
    const engine = runCase(['schedule.js', 'engine+process', 'burst']);
    pairs.push({ floor, engine });
  }
  const ok = pairs.filter((p) => !p.floor.error && !p.engine.error);
  const side = (k) => (ok.length ? { ...ok[0][k], allFinishedMs: median(ok.map((p) => p[k].allFinishedMs)), allStartedMs: median(ok.map((p) => p[k].allStartedMs)) } : pairs[0]?.[k]);
  return {
    'engine+process': side('engine'),
    'spawn floor': side('floor'),
    ratios: ok.map((p) => p.engine.allFinishedMs / p.floor.allFinishedMs),
    ratio: median(ok.map((p) => p.engine.allFinishedMs / p.floor.allFinishedMs)),
  };
}

/** The snapshot case's runs, each of its two sides (worker, main) reduced to medians. */
function snapshotMedian(runs) {
  const ok = runs.filter((r) => !r.error);
  if (!ok.length) return runs[0];
  const side = (k) => Object.fromEntries(Object.keys(ok[0][k]).map((f) => [f, median(ok.map((r) => r[k][f]))]));
  return { rows: ok[0].rows, runs: ok.length, worker: side('worker'), main: side('main') };
}

module.exports = { f, mark, table, targetsTable, snapshotMedian, burstPairs };

if (require.main === module) {
  const quick = process.argv.includes('--quick');
  const RUNS = quick ? 1 : 3;
  const runCase = (args, env = {}) => {
    process.stderr.write(`  ${args.join(' ')}\n`);
    const r = spawnSync(process.execPath, [path.join(__dirname, 'cases', args[0]), ...args.slice(1)], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15 * 60_000, maxBuffer: 64 << 20 });
    const line = r.stdout.trim().split('\n').pop();
    if (r.status !== 0 || !line) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
    return JSON.parse(line);
  };
  const med = (args, env) => {
    const ok = Array.from({ length: RUNS }, () => runCase(args, env)).filter((r) => !r.error);
    const out = {};
    for (const k of Object.keys(ok[0] ?? {})) out[k] = typeof ok[0][k] === 'number' ? median(ok.map((r) => r[k])) : ok[0][k];
    return out;
  };
  execFileSync('bash', [path.join(__dirname, 'setup.sh')], { stdio: 'inherit' });
  const results = { latency: {}, wake: {}, burst: {}, snapshot: {}, startup: {}, startupNoCheckpoint: {}, startupWhole: {} };
  for (const s of ['engine', 'better-sqlite3']) results.latency[s] = med(['schedule.js', s, 'latency']);
  for (const m of ['setTimeout', 'precise']) results.wake[m] = med(['wake.js', m]);
  results.burst = burstPairs(RUNS, runCase);
  for (const rows of [100000, 500000]) results.snapshot[rows] = snapshotMedian(Array.from({ length: RUNS }, () => runCase(['snapshot.js', String(rows)])));
  const prep = runCase(['startup.js', 'prepare', '100000']);
  results.startup = prep.error ? prep : med(['startup.js', 'measure', prep.ws]);
  results.startupNoCheckpoint = prep.error ? prep : med(['startup.js', 'measure', prep.ws], { SDLC_BENCH_CHECKPOINT: 'off' });
  results.startupWhole = prep.error ? prep : med(['startup.js', 'measure', prep.ws], { SDLC_PAGED_SNAPSHOT: 'off' });
  if (prep.ws) fs.rmSync(prep.ws, { recursive: true, force: true });
  console.log(targetsTable(results));
  fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
  fs.writeFileSync(path.join(__dirname, 'results', 'targets.json'), JSON.stringify(results, null, 2) + '\n');
}
