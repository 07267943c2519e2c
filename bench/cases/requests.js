// Requests under contention (the hardening issue's promises):
//   node cases/requests.js cli N     N parallel `sdlc-orchestrator add` processes on a fresh
//                                    folder with no orchestrator running: wall time of each
//                                    (node start-up included), and how many were stored
//   node cases/requests.js owner N   N requests at once from another process to a running
//                                    owner (tick 500 ms): post-to-reply time of each
//   node cases/requests.js verify    `verify` on a folder with 10,000 finished runs
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { REPO, core, stats, tmpdir, silent } = require('../lib');

const CLI = path.join(REPO, 'bin', 'sdlc-orchestrator.js');

function timed(args) {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.on('close', (code) => resolve({ code, ms: performance.now() - t0 }));
  });
}

(async () => {
  const [mode, n = '50'] = process.argv.slice(2);
  const N = Number(n);
  if (mode === 'cli') {
    const ws = tmpdir('contended');
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const results = await Promise.all(Array.from({ length: N }, (_, i) => timed(['add', '--workspace', ws, '--name', `j${i}`, '--at', at, '--run', 'true'])));
    const list = JSON.parse(spawnSync(process.execPath, [CLI, 'list', '--workspace', ws, '--json'], { encoding: 'utf8' }).stdout);
    const s = stats(results.map((r) => r.ms));
    process.stdout.write(JSON.stringify({ p50: s.p50, max: s.max, exitedZero: results.filter((r) => r.code === 0).length, stored: list.length }) + '\n');
    fs.rmSync(ws, { recursive: true, force: true });
    return;
  }
  if (mode === 'owner') {
    const ws = tmpdir('owner');
    const owner = spawn(process.execPath, [CLI, 'run', '--workspace', ws, '--tick', '500', '--quiet'], { stdio: 'ignore' });
    const paths = core('paths').sdlcPaths(ws);
    while (!fs.existsSync(path.join(paths.dir, 'orchestrator.owner.json')) || !fs.existsSync(paths.journal)) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    const { Orchestrator } = core('orchestrator');
    const opts = { workspace: ws, runners: {}, log: silent, webhook: false };
    const ms = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const t0 = performance.now();
        await Orchestrator.requestOnce(opts, { op: 'add', actions: [{ name: `o${i}`, trigger: { kind: 'manual' }, run: { command: 'true' } }] });
        return performance.now() - t0;
      }),
    );
    owner.kill('SIGTERM');
    await new Promise((r) => owner.once('exit', r));
    const s = stats(ms);
    process.stdout.write(JSON.stringify({ p50: s.p50, max: s.max, tickMs: 500 }) + '\n');
    fs.rmSync(ws, { recursive: true, force: true });
    return;
  }
  if (mode === 'verify') {
    // A real history: 10,000 runs made by the engine (no-op runner), so every event is a real one.
    const { noopRunner } = require('../lib');
    const ws = tmpdir('verify');
    const { Orchestrator } = core('orchestrator');
    let done = 0;
    const o = await Orchestrator.create({ workspace: ws, runners: { r: noopRunner(() => done++) }, log: silent, webhook: false, maxConcurrent: 10_000, tickMs: 50 });
    await o.start();
    await o.add(Array.from({ length: 10_000 }, (_, i) => ({ name: `v${i}`, trigger: { kind: 'manual' }, run: { runner: 'r', command: 'x' } })));
    for (const a of o.listActions()) await o.runNow(a.id);
    while (o.history(1).length === 0 || !o.isIdle()) await new Promise((r) => setTimeout(r, 50));
    await o.stop();
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, 'verify', '--workspace', ws, '--json'], { encoding: 'utf8', maxBuffer: 256 << 20 });
    const ms = performance.now() - t0;
    const report = JSON.parse(r.stdout);
    process.stdout.write(JSON.stringify({ ms, exit: r.status, events: report.events, runs: report.compared.runs }) + '\n');
    fs.rmSync(ws, { recursive: true, force: true });
    return;
  }
  throw new Error('mode: cli | owner | verify');
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
