// Shared by the benchmark cases: statistics, temp folders, the engine from out/, the
// comparison libraries from .cache/bench, and a history of finished runs built fast.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..');
const OUT = path.join(REPO, 'out', 'src', 'core');
const CACHE = path.join(REPO, '.cache', 'bench', 'node_modules');
const core = (name) => require(path.join(OUT, name));
const alt = (name) => require(path.join(CACHE, name));

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s[s.length - 1] };
}

function median(values) {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `fn` run `times` times: the median milliseconds, and the last result. */
function medianTime(fn, times = 5) {
  const ms = [];
  let result;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), result };
}

/**
 * A heartbeat every `everyMs`: any gap beyond it is time the thread could not run anything
 * else. `stop()` ends it and returns the longest such stall (ms).
 */
function stallProbe(everyMs = 1) {
  let last = performance.now();
  let max = 0;
  const beat = setInterval(() => {
    const t = performance.now();
    max = Math.max(max, t - last - everyMs);
    last = t;
  }, everyMs);
  return {
    stop() {
      clearInterval(beat);
      return Math.max(max, performance.now() - last - everyMs);
    },
  };
}

function tmpdir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sdlc-bench-${tag}-`));
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable with Date.now(). */
const nowMs = () => performance.timeOrigin + performance.now();

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** A runner that starts nothing: the engine's own cost. Calls `started` and ends at once. */
function noopRunner(started) {
  return {
    start(req, done) {
      started(req);
      setImmediate(() => done({ status: 'succeeded', exitCode: 0 }));
      return { stop() {} };
    },
  };
}

/**
 * A folder whose database holds `rows` finished runs (and their started and completed events), written as a
 * snapshot the way the engine writes one. Built with plain SQL: seconds, not minutes.
 */
async function folderWithHistory(rows, opts = {}) {
  const spacing = opts.spacingMs ?? 1000;
  const actions = opts.actions ?? 1000;
  const ws = tmpdir(`h${rows}`);
  const SQL = await core('store/sqljs').loadSqlJs();
  const db = new SQL.Database();
  core('store/schema').migrate(db);
  db.exec('BEGIN');
  const run = db.prepare(
    `INSERT INTO runs (run_id, action_id, name, runner, status, attempt, scheduled_for, started_at, ended_at, exit_code, reason, output_tail, cause, data, owner)
     VALUES (?, ?, ?, 'process', 'succeeded', 1, ?, ?, ?, 0, NULL, ?, 'schedule', '{}', 'bench')`,
  );
  // Each run's two lifecycle events as the engine records them, so the log accounts for the runs (verify).
  const ev = db.prepare('INSERT INTO events (ts, type, action_id, run_id, data) VALUES (?, ?, ?, ?, ?)');
  const started = JSON.stringify({ attempt: 1, cause: 'schedule', runner: 'process' });
  const completed = JSON.stringify({ exitCode: 0, durationMs: 50, attempt: 1 });
  const t0 = Date.now() - rows * spacing;
  for (let i = 0; i < rows; i++) {
    const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
    const at = t0 + i * spacing;
    run.run([id, `a-${i % actions}`, `job ${i % actions}`, at, at, at + 50, 'ok\n']);
    ev.run([at, 'task.started', `a-${i % actions}`, id, started]);
    ev.run([at + 50, 'task.completed', `a-${i % actions}`, id, completed]);
  }
  if (opts.actionRows) {
    // The actions too (finished, so nothing runs), for what reads them: stats.
    const a = db.prepare(`INSERT INTO actions (id, name, status, trigger, run, policy, created_at, updated_at, defined_at)
      VALUES (?, ?, 'succeeded', '{"kind":"manual"}', '{"runner":"process","command":"true"}', '{}', ?, ?, ?)`);
    for (let i = 0; i < actions; i++) a.run([`a-${i}`, `job ${i}`, t0, t0, t0]);
    a.free();
  }
  run.free();
  ev.free();
  db.exec('COMMIT');
  const paths = core('paths').sdlcPaths(ws);
  core('paths').ensureSdlcDir(paths);
  core('store/atomicFile').writeFileAtomic(paths.db, db.export());
  db.close();
  return ws;
}

/** Every run waits for `fn` with a deadline, so one stuck alternative cannot hang the run. */
function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: gave up after ${ms} ms`)), ms);
    }),
  ]);
}

module.exports = { REPO, core, alt, stats, median, medianTime, stallProbe, tmpdir, nowMs, silent, noopRunner, folderWithHistory, within };
