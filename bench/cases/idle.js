// `node cases/idle.js SYSTEM`: CPU use (% of one core) over 60 s with 10,000 actions
// scheduled a day ahead. SECONDS overrides the 60 s.
'use strict';
const { core, alt, silent, noopRunner, tmpdir } = require('../lib');

(async () => {
  const system = process.argv[2];
  const seconds = Number(process.env.SECONDS_IDLE ?? 60);
  const due = Date.now() + 86_400_000;
  let o;
  if (system === 'engine') {
    const { Orchestrator } = core('orchestrator');
    o = await Orchestrator.create({ workspace: tmpdir('idle'), runners: { r: noopRunner(() => {}) }, log: silent, webhook: false });
    await o.start();
    const inputs = Array.from({ length: 10_000 }, (_, i) => ({ name: `job ${i}`, trigger: { kind: 'at', at: new Date(due + i * 1000).toISOString() }, run: { runner: 'r', command: 'x' } }));
    await o.add(inputs);
  } else if (system === 'floor') {
    for (let i = 0; i < 10_000; i++) setTimeout(() => {}, Math.min(2 ** 31 - 1, due + i * 1000 - Date.now()));
  } else if (system === 'croner') {
    const { Cron } = alt('croner');
    for (let i = 0; i < 10_000; i++) new Cron(new Date(due + i * 1000), { maxRuns: 1 }, () => {});
  } else throw new Error(`unknown system ${system}`);
  await new Promise((r) => setTimeout(r, 3000)); // settle: the add, its snapshot, GC
  const c = process.cpuUsage();
  const t = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const d = process.cpuUsage(c);
  const wall = performance.now() - t;
  process.stdout.write(JSON.stringify({ system, cpuPercent: ((d.user + d.system) / 1000 / wall) * 100, rssMb: process.memoryUsage().rss / 1048576 }) + '\n');
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
