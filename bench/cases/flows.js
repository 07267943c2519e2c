// Flows and the claim: `node cases/flows.js`.
// Part 1, a flow of 1,000 steps, the no-op runner (the engine's own cost), max-concurrent 1,024:
//   fanout  a root and 999 steps after it: root's end → each step's start (p50, p99)
//   chain   1,000 steps one after another: each step's end → the next one's start (p50, p99),
//           and the whole chain's wall time
// Part 2, the claim with 10,000 ready runs (10,000 actions, each with one run queued, the folder
//   paused so nothing starts): the time of one claim of 16 slots (median of 50, rolled back each
//   time), with every action at priority 0 and with priorities spread over 4 levels; which
//   priority the claimed runs had (all from the highest level).
'use strict';
const { core, stats, tmpdir, silent, nowMs, median } = require('../lib');

const { Orchestrator } = core('orchestrator');

async function flowOf(shape) {
  const ws = tmpdir(`flow-${shape}`);
  const starts = new Map();
  const ends = new Map();
  const runner = {
    start(req, done) {
      starts.set(req.name, nowMs());
      setImmediate(() => {
        ends.set(req.name, nowMs());
        done({ status: 'succeeded', exitCode: 0 });
      });
      return { stop() {} };
    },
  };
  const o = await Orchestrator.create({ workspace: ws, runners: { process: runner }, tickMs: 500, maxConcurrent: 1024, log: silent, webhook: false, devTriggers: false, actionsFile: false });
  await o.start();
  const N = 1000;
  const inputs = [{ name: 's0', trigger: { kind: 'manual' }, run: { command: 'true' } }];
  for (let i = 1; i < N; i++) {
    const after = shape === 'fanout' ? 's0' : `s${i - 1}`;
    inputs.push({ name: `s${i}`, trigger: { kind: 'after', after }, run: { command: 'true' }, policy: { concurrency: 1 } });
  }
  await o.add(inputs);
  const t0 = nowMs();
  await o.runNow('s0');
  const until = Date.now() + 120_000;
  while (ends.size < N && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  const wall = nowMs() - t0;
  const flows = o.listFlows(5);
  const lat = [];
  for (let i = 1; i < N; i++) {
    const up = shape === 'fanout' ? 's0' : `s${i - 1}`;
    if (starts.has(`s${i}`) && ends.has(up)) lat.push(starts.get(`s${i}`) - ends.get(up));
  }
  await o.stop();
  return { ran: ends.size, flows: flows.length, status: flows[0]?.status, wallMs: wall, ...stats(lat) };
}

async function claim() {
  const ws = tmpdir('claim');
  const o = await Orchestrator.create({ workspace: ws, runners: { process: { start: (_r, done) => (done({ status: 'succeeded', exitCode: 0 }), { stop() {} }) } }, tickMs: 500, log: silent, webhook: false, devTriggers: false, actionsFile: false });
  await o.start();
  await o.pause();
  const N = 10_000;
  const LEVELS = [0, 1, 5, 10];
  const out = {};
  for (const mixed of [false, true]) {
    const { actions } = await o.add(Array.from({ length: N }, (_, i) => ({ name: `${mixed ? 'm' : 'p'}${i}`, trigger: { kind: 'manual' }, run: { command: 'true' }, ...(mixed ? { policy: { priority: LEVELS[i % 4] } } : {}) })));
    // One transaction: each action gets one queued run (as 10,000 webhook deliveries would).
    const t = o.transitions;
    const now = Date.now();
    for (const a of actions) t.runNow(a.id, now);
    o.db.commit();
    const times = [];
    let priorities = [];
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      const claims = t.claimDue(Date.now(), 16);
      times.push(performance.now() - s);
      priorities = claims.map((c) => c.action.policy.priority ?? 0);
      o.db.store.rollback();
    }
    out[mixed ? 'mixed' : 'flat'] = { claimMs: median(times), claimed: priorities.length, highest: Math.max(...priorities), lowest: Math.min(...priorities) };
    // Those runs go again before the next round.
    for (const a of actions) t.cancel(a.id, Date.now());
    o.db.commit();
  }
  await o.stop();
  return out;
}

(async () => {
  const fanout = await flowOf('fanout');
  const chain = await flowOf('chain');
  const c = await claim();
  console.log(
    JSON.stringify({
      fanoutRan: fanout.ran,
      fanoutP50: fanout.p50,
      fanoutP99: fanout.p99,
      fanoutWallMs: fanout.wallMs,
      chainRan: chain.ran,
      chainP50: chain.p50,
      chainP99: chain.p99,
      chainWallMs: chain.wallMs,
      chainFlows: chain.flows,
      chainStatus: chain.status,
      claimFlatMs: c.flat.claimMs,
      claimMixedMs: c.mixed.claimMs,
      claimMixedHighest: c.mixed.highest,
      claimMixedLowest: c.mixed.lowest,
      claimed: c.mixed.claimed,
    }),
  );
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
