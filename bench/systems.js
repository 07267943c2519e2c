// The systems the benchmark compares, behind one function each:
//   run(dues, opts) → { started: number[] (when each job started, wall ms), finishedAt: number }
// `dues` are wall-clock due times in ms. A system has finished when every job's end is recorded
// (durably, for the durable ones). Each starts from an empty store in a fresh temp folder.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { core, alt, tmpdir, nowMs, silent, noopRunner, within } = require('./lib');

const LIMIT_MS = 90_000;

/** Resolves when `count()` reaches n. */
function countdown(n, onDone) {
  let left = n;
  return () => {
    if (--left === 0) onDone();
  };
}

// ---- ours ----

async function engine(dues, opts = {}) {
  const { Orchestrator } = core('orchestrator');
  const { ProcessRunner } = core('processRunner');
  const ws = tmpdir('engine');
  const started = new Array(dues.length).fill(NaN);
  const index = new Map();
  const mark = (req) => (started[index.get(req.actionId)] = nowMs());
  let runner;
  if (opts.process) {
    const pr = new ProcessRunner();
    runner = { start: (req, done) => { const h = pr.start(req, done); mark(req); return h; } };
  } else runner = noopRunner(mark);
  const o = await Orchestrator.create({ workspace: ws, runners: { r: runner }, log: silent, webhook: false, maxConcurrent: opts.maxConcurrent });
  let resolveAll;
  const all = new Promise((r) => (resolveAll = r));
  let finishedAt = NaN;
  const done = countdown(dues.length, () => {
    finishedAt = nowMs();
    resolveAll();
  });
  o.onEvents((events) => {
    for (const e of events) if (e.type === 'task.completed' || e.type === 'task.failed') done();
  });
  await o.start();
  const inputs = dues.map((due, i) => ({ name: `job ${i}`, trigger: { kind: 'at', at: new Date(due).toISOString() }, run: { runner: 'r', command: 'true' } }));
  const { actions } = await o.add(inputs);
  actions.forEach((a, i) => index.set(a.id, i));
  try {
    await within(LIMIT_MS, 'engine', all);
  } finally {
    await o.stop();
    fs.rmSync(ws, { recursive: true, force: true });
  }
  return { started, finishedAt };
}

// ---- no durability ----

/**
 * The spawn floor: at the due time, each job's `true` through a shell (`/bin/sh -c true`, as
 * the process runner starts a command), at most 16 at a time (the engine's default
 * concurrency), the next started as one exits. Nothing recorded: what spawning alone costs.
 */
async function spawnFloor(dues, limit = 16) {
  const started = new Array(dues.length).fill(NaN);
  const order = dues.map((due, i) => [due, i]).sort((a, b) => a[0] - b[0]);
  let next = 0;
  let running = 0;
  let finishedAt = NaN;
  await within(LIMIT_MS, 'spawn floor', new Promise((resolve, reject) => {
    const pump = () => {
      while (running < limit && next < order.length && order[next][0] <= Date.now()) {
        const i = order[next++][1];
        running++;
        const child = spawn('/bin/sh', ['-c', 'true'], { stdio: 'ignore' });
        started[i] = nowMs();
        child.on('error', reject);
        child.on('exit', () => {
          running--;
          if (next === order.length && running === 0) {
            finishedAt = nowMs();
            return resolve();
          }
          pump();
        });
      }
      if (next < order.length && running < limit) setTimeout(pump, Math.max(0, order[next][0] - Date.now()));
    };
    pump();
  }));
  return { started, finishedAt };
}

async function floor(dues) {
  const started = new Array(dues.length).fill(NaN);
  await new Promise((resolve) => {
    const done = countdown(dues.length, resolve);
    dues.forEach((due, i) =>
      setTimeout(() => {
        started[i] = nowMs();
        done();
      }, Math.max(0, due - Date.now())),
    );
  });
  return { started, finishedAt: Math.max(...started) };
}

async function croner(dues) {
  const { Cron } = alt('croner');
  const started = new Array(dues.length).fill(NaN);
  // A one-shot Cron on a Date now and then never fires (seen: 1 in 1,000, nextRun() null), so
  // wait until a little after the last due time and count what did not start.
  await new Promise((resolve) => {
    const giveUp = setTimeout(resolve, Math.max(...dues) - Date.now() + 3000);
    const done = countdown(dues.length, () => {
      clearTimeout(giveUp);
      resolve();
    });
    dues.forEach((due, i) =>
      new Cron(new Date(due), { maxRuns: 1 }, () => {
        started[i] = nowMs();
        done();
      }),
    );
  });
  return { started, finishedAt: Math.max(...started.filter(Number.isFinite)) };
}

// ---- the naive durable design: sql.js, the whole database exported after each change ----

async function naiveSqljs(dues) {
  const { writeFileAtomic } = core('store/atomicFile');
  const SQL = await core('store/sqljs').loadSqlJs();
  const dir = tmpdir('naive');
  const file = path.join(dir, 'queue.db');
  const db = new SQL.Database();
  db.exec('CREATE TABLE jobs (id INTEGER PRIMARY KEY, due INTEGER NOT NULL, status TEXT NOT NULL); CREATE INDEX jobs_due ON jobs(status, due)');
  const save = () => writeFileAtomic(file, db.export());
  const insert = db.prepare("INSERT INTO jobs (id, due, status) VALUES (?, ?, 'queued')");
  dues.forEach((due, i) => insert.run([i, due]));
  insert.free();
  save();
  const started = new Array(dues.length).fill(NaN);
  let finishedAt = NaN;
  let stop = false;
  const work = new Promise((resolve) => {
    let left = dues.length;
    const next = () => {
      if (stop) return resolve();
      const now = Date.now();
      const due = db.exec("SELECT id FROM jobs WHERE status = 'queued' AND due <= ? ORDER BY due", [now]);
      for (const [id] of due.length ? due[0].values : []) {
        db.run("UPDATE jobs SET status = 'running' WHERE id = ?", [id]);
        save(); // durable before it starts
        started[id] = nowMs();
        db.run("UPDATE jobs SET status = 'done' WHERE id = ?", [id]);
        save();
        if (--left === 0) {
          finishedAt = nowMs();
          return resolve();
        }
        if (stop) return resolve();
      }
      const r = db.exec("SELECT min(due) FROM jobs WHERE status = 'queued'");
      const nextDue = r[0].values[0][0];
      setTimeout(next, Math.max(0, Math.min(500, nextDue - Date.now())));
    };
    next();
  });
  try {
    await within(LIMIT_MS, 'naive sql.js', work);
  } catch (err) {
    stop = true;
    throw Object.assign(err, { partial: { started, finishedAt } });
  } finally {
    stop = true;
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { started, finishedAt };
}

// ---- a native durable queue: better-sqlite3, WAL, synchronous=FULL, claim in one transaction ----

async function betterSqlite(dues) {
  const Database = alt('better-sqlite3');
  const dir = tmpdir('bsq');
  const db = new Database(path.join(dir, 'queue.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE jobs (id INTEGER PRIMARY KEY, due INTEGER NOT NULL, status TEXT NOT NULL); CREATE INDEX jobs_due ON jobs(status, due)');
  const insert = db.prepare("INSERT INTO jobs (id, due, status) VALUES (?, ?, 'queued')");
  db.transaction(() => dues.forEach((due, i) => insert.run(i, due)))();
  const claim = db.prepare("UPDATE jobs SET status = 'running' WHERE status = 'queued' AND due <= ? RETURNING id");
  const finish = db.prepare("UPDATE jobs SET status = 'done' WHERE id = ?");
  const nextDue = db.prepare("SELECT min(due) AS d FROM jobs WHERE status = 'queued'");
  const finishMany = db.transaction((ids) => ids.forEach((id) => finish.run(id)));
  const started = new Array(dues.length).fill(NaN);
  let finishedAt = NaN;
  let timer;
  const work = new Promise((resolve) => {
    let left = dues.length;
    let ending = [];
    const flush = () => {
      const ids = ending;
      ending = [];
      finishMany(ids); // one durable commit for every run that ended meanwhile
      left -= ids.length;
      if (left === 0) {
        finishedAt = nowMs();
        resolve();
      }
    };
    const tick = () => {
      const ids = db.transaction(() => claim.all(Date.now()))(); // durable before they start
      for (const { id } of ids) {
        started[id] = nowMs();
        if (!ending.length) setImmediate(flush);
        ending.push(id);
      }
      const d = nextDue.get().d;
      if (d !== null) timer = setTimeout(tick, Math.max(0, Math.min(500, d - Date.now())));
    };
    tick();
  });
  try {
    await within(LIMIT_MS, 'better-sqlite3', work);
  } finally {
    clearTimeout(timer);
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { started, finishedAt };
}

// ---- BullMQ delayed jobs on a local redis-server (append-only file, fsync always) ----

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis() {
  const dir = tmpdir('redis');
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], {
    stdio: 'ignore',
  });
  const IORedis = alt('ioredis');
  for (let i = 0; ; i++) {
    const c = new IORedis({ port, lazyConnect: true, maxRetriesPerRequest: null });
    try {
      await c.connect();
      await c.ping();
      await c.quit();
      break;
    } catch {
      c.disconnect();
      if (i > 100) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    async stop() {
      proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function bullmq(dues, opts = {}) {
  const { Queue, Worker, QueueEvents } = alt('bullmq');
  const redis = await startRedis();
  const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
  const queue = new Queue('bench', { connection });
  const started = new Array(dues.length).fill(NaN);
  let finishedAt = NaN;
  let resolveAll;
  const all = new Promise((r) => (resolveAll = r));
  const done = countdown(dues.length, () => {
    finishedAt = nowMs();
    resolveAll();
  });
  const worker = new Worker(
    'bench',
    async (job) => {
      started[job.data.i] = nowMs();
    },
    { connection, concurrency: opts.concurrency ?? 100 },
  );
  worker.on('completed', done); // after the job's completion is written to redis
  await worker.waitUntilReady();
  const now = Date.now();
  const jobs = dues.map((due, i) => ({ name: 'job', data: { i }, opts: { delay: Math.max(0, due - now), removeOnComplete: true } }));
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
  try {
    await within(LIMIT_MS, 'bullmq', all);
  } finally {
    await worker.close();
    await queue.close();
    await redis.stop();
  }
  return { started, finishedAt };
}

module.exports = {
  engine: (d) => engine(d),
  'engine, all at once': (d) => engine(d, { maxConcurrent: 20_000 }),
  'engine+process': (d) => engine(d, { process: true }),
  floor,
  'spawn floor': (d) => spawnFloor(d),
  croner,
  'naive sql.js': naiveSqljs,
  'better-sqlite3': betterSqlite,
  bullmq,
  engineWith: engine,
};
