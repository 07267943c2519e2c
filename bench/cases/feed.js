// The change feed and the outbox under load: `node cases/feed.js`.
// Part 1, the owner alone in its own process (`sdlc-orchestrator run`), 10 SSE clients here:
//   a manual action with the process runner is run 50 times a second for 10 s through the API
//   (POST /actions/{id}/run), ~4 lifecycle events a run.
//   latency  event recorded (its ts) → arrival at a client, over every event at every client
//            (p50, p99, max, n); each client must see every event exactly once (missed, repeated)
//   follow   the same for `sdlc-orchestrator events --follow --json` (it reads the owner's files)
// Part 2, in one process: the owner's tick (lastTickMs of every tick, p50 and p99) under the
//   same load with no SSE client, and with 10 reading clients plus one that never reads
//   (it is cut off); the ratio says whether the tick stays flat.
// Part 3: notifications through the outbox to a loopback receiver: 200 runs that fail, each
//   announced; run end → arrival at the receiver (p50, p99), every one exactly once.
'use strict';
const { spawn } = require('child_process');
const http = require('http');
const net = require('net');
const path = require('path');
const { REPO, core, stats, tmpdir, silent } = require('../lib');

const { Orchestrator } = core('orchestrator');
const { ProcessRunner } = core('processRunner');
const { readWebhookInfo } = core('webhookFiles');
const { sdlcPaths } = core('paths');
const CLI = path.join(REPO, 'bin', 'sdlc-orchestrator.js');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A minimal EventSource: parses frames, calls `onEvent(json)` for each lifecycle event. */
function sseClient(url, secret, onEvent) {
  return new Promise((resolve, reject) => {
    const req = http.get(new URL('/events', url), { headers: { Authorization: `Bearer ${secret}` } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        const at = Date.now();
        buf += chunk;
        for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (data && !block.includes('event: ')) onEvent(JSON.parse(data.slice(6)), at);
        }
      });
      resolve(req);
    });
    req.on('error', reject);
  });
}

function post(url, secret, p) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(p, url), { method: 'POST', headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, text }));
    });
    req.on('error', reject);
    req.end(p === '/actions' ? JSON.stringify({ name: 'tick', trigger: { kind: 'manual' }, run: { runner: 'process', command: 'true' }, policy: { concurrency: 16 } }) : undefined);
  });
}

async function latencyPart() {
  const ws = tmpdir('feed');
  const owner = spawn(process.execPath, [CLI, 'run', '--workspace', ws, '--quiet'], { stdio: 'ignore' });
  try {
    let info;
    for (let i = 0; i < 400 && !(info = readWebhookInfo(sdlcPaths(ws)))?.url; i++) await sleep(25);
    const { url, secret } = info;
    const add = await post(url, secret, '/actions');
    const actionId = JSON.parse(add.text).id;
    const latencies = [];
    const seen = Array.from({ length: 10 }, () => new Map());
    const clients = [];
    for (let c = 0; c < 10; c++) {
      clients.push(
        await sseClient(url, secret, (e, at) => {
          seen[c].set(e.seq, (seen[c].get(e.seq) ?? 0) + 1);
          latencies.push(at - Date.parse(e.ts));
        }),
      );
    }
    // And the command line's follower, reading the owner's files.
    const followed = [];
    const follower = spawn(process.execPath, [CLI, 'events', '--workspace', ws, '--follow', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    follower.stdout.on('data', (d) => {
      const at = Date.now();
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        followed.push(at - Date.parse(JSON.parse(buf.slice(0, nl)).ts));
        buf = buf.slice(nl + 1);
      }
    });
    await sleep(800);
    const t0 = Date.now();
    let asked = 0;
    while (Date.now() - t0 < 10_000) {
      void post(url, secret, `/actions/${actionId}/run`);
      asked++;
      await sleep(20);
    }
    await sleep(2000);
    const counts = seen.map((m) => m.size);
    const all = Math.max(...counts);
    const repeated = seen.reduce((n, m) => n + [...m.values()].filter((v) => v > 1).length, 0);
    for (const c of clients) c.destroy();
    follower.kill('SIGTERM');
    const s = stats(latencies);
    const fl = stats(followed);
    return { followP50: fl.p50, followP99: fl.p99, followed: fl.n, runsAsked: asked, events: all, latencyP50: s.p50, latencyP99: s.p99, latencyMax: s.max, samples: s.n, missed: counts.reduce((n, c) => n + (all - c), 0), repeated };
  } finally {
    owner.kill('SIGTERM');
  }
}

async function tickPart(withClients) {
  const ws = tmpdir('feedtick');
  const o = await Orchestrator.create({ workspace: ws, runners: { process: new ProcessRunner() }, log: silent, tickMs: 100, devTriggers: false, actionsFile: false, api: { stream: { maxBufferBytes: 256 * 1024 } } });
  await o.start();
  const { url, secret } = readWebhookInfo(o.paths);
  const ticks = [];
  o.onTick((s) => ticks.push(s.lastTickMs));
  const clients = [];
  let stalled;
  if (withClients) {
    for (let c = 0; c < 10; c++) clients.push(await sseClient(url, secret, () => undefined));
    stalled = net.connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise((r) => stalled.once('connect', r));
    stalled.write(`GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\n\r\n`);
    stalled.pause();
  }
  const { actions } = await o.add({ name: 'load', trigger: { kind: 'manual' }, run: { command: 'true' }, policy: { concurrency: 16 } });
  // Big enough events that the stalled client's buffers fill within the run.
  const globs = Array.from({ length: 100 }, (_, i) => `packages/pkg-${i}/src/**/*.{ts,tsx}`);
  ticks.length = 0;
  const t0 = Date.now();
  let batch = 0;
  while (Date.now() - t0 < 8000) {
    await o.runNow(actions[0].id);
    if (batch++ % 5 === 0) await o.add(Array.from({ length: 20 }, (_, i) => ({ name: `w${batch}-${i}`, trigger: { kind: 'change', paths: globs }, run: { command: 'true' } })));
    await sleep(20);
  }
  const s = stats(ticks);
  const cutOff = o.api.stream.cutOff;
  for (const c of clients) c.destroy();
  stalled?.destroy();
  await o.stop();
  return { tickP50: s.p50, tickP99: s.p99, ticks: s.n, cutOff };
}

async function outboxPart() {
  const ws = tmpdir('outbox');
  const arrived = new Map();
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const key = req.headers['idempotency-key'];
      const b = JSON.parse(body);
      if (!arrived.has(key)) arrived.set(key, Date.now() - Date.parse(b.endedAt));
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const port = receiver.address().port;
  const o = await Orchestrator.create({ workspace: ws, runners: { process: new ProcessRunner() }, log: silent, tickMs: 100, devTriggers: false, actionsFile: false, webhook: false });
  await o.start();
  const { actions } = await o.add({ name: 'fails', trigger: { kind: 'manual' }, run: { command: 'exit 1' }, policy: { concurrency: 16, notify: `http://127.0.0.1:${port}/n` } });
  for (let i = 0; i < 200; i++) {
    await o.runNow(actions[0].id);
    await sleep(10);
  }
  for (let i = 0; i < 400 && arrived.size < 200; i++) await sleep(25);
  await o.stop();
  receiver.close();
  const s = stats([...arrived.values()]);
  return { notifications: arrived.size, notifyP50: s.p50, notifyP99: s.p99 };
}

(async () => {
  const latency = await latencyPart();
  const quiet = await tickPart(false);
  const busy = await tickPart(true);
  const outbox = await outboxPart();
  console.log(
    JSON.stringify({
      ...latency,
      tickP50NoClients: quiet.tickP50,
      tickP99NoClients: quiet.tickP99,
      tickP50Clients: busy.tickP50,
      tickP99Clients: busy.tickP99,
      slowCutOff: busy.cutOff,
      ...outbox,
    }),
  );
  process.exit(0);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
