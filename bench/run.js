// `npm run bench`: measures the engine headless, side by side with what a user could pick
// instead, prints a table and writes bench/results/<time>.json (and latest.json).
// Each figure is the median of several runs, each in a fresh process. `--quick`: one run
// each and a 10 s idle window, for trying things out. Not a test: nothing here fails a build.
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { REPO, median } = require('./lib');

const quick = process.argv.includes('--quick');
const RUNS = quick ? 1 : 3;

function runCase(args, env = {}) {
  const r = spawnSync(process.execPath, [path.join(__dirname, 'cases', args[0]), ...args.slice(1)], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 15 * 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !line) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(line);
}

function repeat(args, n = RUNS, env) {
  const out = [];
  for (let i = 0; i < n; i++) {
    process.stderr.write(`  ${args.join(' ')} (${i + 1}/${n})\n`);
    out.push(runCase(args, env));
  }
  return out;
}

/** The median of each numeric field over runs that did not fail. */
function med(results) {
  const ok = results.filter((r) => !r.error);
  if (!ok.length) return { error: results[0]?.error ?? 'no result' };
  const out = {};
  for (const k of Object.keys(ok[0])) {
    out[k] = typeof ok[0][k] === 'number' ? median(ok.map((r) => r[k])) : ok[0][k];
  }
  if (ok.length < results.length) out.failedRuns = results.length - ok.length;
  return out;
}

const { f, mark, table, targetsTable, snapshotMedian, burstPairs } = require('./targets');

(async () => {
  const t0 = Date.now();
  process.stderr.write('setting up the alternatives (.cache/bench) and packing the .vsix\n');
  execFileSync('bash', [path.join(__dirname, 'setup.sh')], { stdio: 'inherit' });
  execFileSync('npm', ['run', 'package'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });

  const SYSTEMS = ['engine', 'engine+process', 'floor', 'croner', 'naive sql.js', 'better-sqlite3', 'bullmq'];
  const results = { machine: {}, latency: {}, wake: {}, burst: {}, burstCpu: {}, tick: {}, idle: {}, startup: {}, startupNoCheckpoint: {}, startupWhole: {}, startupFollower: {}, extension: {}, panel: {}, requests: {}, definitions: {}, devTriggers: {}, export: {}, feed: {}, flows: {}, insight: {}, snapshot: {} };
  results.machine = {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    runs: RUNS,
  };

  process.stderr.write('1. due-to-start latency: 1,000 jobs over 10 s\n');
  for (const s of SYSTEMS) results.latency[s] = med(repeat(['schedule.js', s, 'latency']));
  for (const m of ['setTimeout', 'precise']) results.wake[m] = med(repeat(['wake.js', m]));

  process.stderr.write('2. burst: 10,000 jobs due at once\n');
  for (const s of ['engine, all at once', 'engine', 'floor', 'croner', 'naive sql.js', 'better-sqlite3', 'bullmq']) {
    results.burst[s] = med(repeat(['schedule.js', s, 'burst'], s === 'naive sql.js' ? 1 : RUNS));
  }
  // The process runner and its floor in turns, for the target's ratio (see burstPairs).
  Object.assign(results.burst, burstPairs(RUNS, (args) => (process.stderr.write(`  ${args.join(' ')}\n`), runCase(args))));
  for (const s of ['engine+process', 'spawn floor']) results.burstCpu[s] = med(repeat(['burstCpu.js', s]));

  process.stderr.write('3. tick cost against history size\n');
  for (const rows of [1000, 10_000, 100_000, 500_000]) results.tick[rows] = med(repeat(['tickcost.js', String(rows)], 1));

  process.stderr.write('4. idle cost: 10,000 actions a day ahead\n');
  const idleEnv = { SECONDS_IDLE: quick ? '10' : '60' };
  for (const s of ['engine', 'floor', 'croner']) results.idle[s] = med(repeat(['idle.js', s], 1, idleEnv));

  process.stderr.write('5. start-up with 100k history rows and an unsnapshotted journal\n');
  const prep = runCase(['startup.js', 'prepare', '100000']);
  results.startup = prep.error ? prep : med(repeat(['startup.js', 'measure', prep.ws]));
  // The same crash with no checkpoint on disk (none written, or passed over): the whole journal replayed.
  results.startupNoCheckpoint = prep.error ? prep : med(repeat(['startup.js', 'measure', prep.ws], RUNS, { SDLC_BENCH_CHECKPOINT: 'off' }));
  // The same start with the snapshot read whole, as before the owner paged it (and as readers do).
  results.startupWhole = prep.error ? prep : med(repeat(['startup.js', 'measure', prep.ws], RUNS, { SDLC_PAGED_SNAPSHOT: 'off' }));
  results.startupFollower = prep.error ? prep : med(repeat(['startup.js', 'follow', prep.ws]));
  if (prep.ws) fs.rmSync(prep.ws, { recursive: true, force: true });

  process.stderr.write('6. extension activation and .vsix size\n');
  const act = runCase(['activation.js']);
  results.extension = {
    activationMs: act.activationMs ? median(act.activationMs) : undefined,
    activationRuns: act.activationMs,
    activationNote: act.skipped ?? act.error,
    vsixBytes: fs.statSync(path.join(REPO, 'sdlc-orchestrator.vsix')).size,
  };

  process.stderr.write('7. the orchestrator panel with 10,000 finished runs\n');
  results.panel = med(repeat(['panel.js', '10000']));

  process.stderr.write('8. requests under contention, and verify\n');
  results.requests = {
    cli: med(repeat(['requests.js', 'cli', '50'])),
    owner: med(repeat(['requests.js', 'owner', '50'])),
    verify: med(repeat(['requests.js', 'verify'])),
  };

  process.stderr.write('9. the actions file: 1,000 actions, a one-line change\n');
  results.definitions = med(repeat(['definitions.js', '1000'], 1));

  process.stderr.write('10. development-event triggers: save → run, a 10,000-file storm, watching 100,000 files\n');
  results.devTriggers = {
    latency: med(repeat(['devTriggers.js', 'latency'])),
    storm: med(repeat(['devTriggers.js', 'storm'])),
    tree: med(repeat(['devTriggers.js', 'tree', '100000'])),
    treeChokidar: med(repeat(['devTriggers.js', 'tree', '100000', 'chokidar'], 1)),
  };

  process.stderr.write('11. export to GitHub Actions: 1,000 actions (800 workflows), actionlint, --check\n');
  results.export = med(repeat(['export.js', '1000']));

  process.stderr.write('12. the change feed (SSE, 10 clients), the tick with a stalled client, the notification outbox\n');
  results.feed = med(repeat(['feed.js']));

  process.stderr.write('13. flows: 1,000 steps fanned out and chained; the claim with 10,000 ready runs of mixed priority\n');
  results.flows = med(repeat(['flows.js']));

  process.stderr.write('14. insight: the Gantt view with 10,000 runs, health and stats over 100,000 runs\n');
  results.insight = med(repeat(['insight.js']));

  process.stderr.write('15. snapshots: the event-loop stall while one is written, at 100k and 500k history rows (a worker against this thread; medians)\n');
  for (const rows of [100_000, 500_000]) results.snapshot[rows] = snapshotMedian(Array.from({ length: RUNS }, () => runCase(['snapshot.js', String(rows)])));

  // ---- report ----
  const L = results.latency;
  const cronerP50 = L.croner?.p50;
  const out = [];
  out.push(`Machine: ${results.machine.cpu}, ${results.machine.cores} cores, ${results.machine.memGiB} GiB, Node ${results.machine.node}; medians of ${RUNS} run(s).`, '');
  out.push('1. Due-to-start latency, 1,000 jobs due over 10 s (ms, start − due)', '');
  out.push(
    table(
      ['system', 'durable', 'p50', 'p99', 'max', 'never started'],
      SYSTEMS.map((s) => [s, ['floor', 'croner'].includes(s) ? 'no' : 'yes', f(L[s].p50), f(L[s].p99), f(L[s].max) + (L[s].error ? ` (${L[s].error})` : ''), f(L[s].lost, 0)]),
    ),
  );
  const e = L.engine;
  out.push(
    '',
    `targets (engine, no-op runner): p50 ≤ 5 ms ${mark(e.p50 <= 5)} · p99 ≤ 25 ms ${mark(e.p99 <= 25)} · p50 within 1.5× croner's: ${f(e.p50 / cronerP50)}× ${mark(e.p50 <= 1.5 * cronerP50)}`,
    '',
    `the wake-up alone (cases/wake.js, 300 due times): the engine's worker-thread wake-up p50 ${f(results.wake.precise?.p50)} ms, p99 ${f(results.wake.precise?.p99)} ms; setTimeout's p50 ${f(results.wake.setTimeout?.p50)} ms, p99 ${f(results.wake.setTimeout?.p99)} ms`,
    '',
  );
  out.push('2. Burst: 10,000 jobs due at the same moment (ms after the due time)', '');
  const B = results.burst;
  out.push(
    table(
      ['system', 'first started', 'all started', 'all finished (durably)', 'never started'],
      Object.entries(B)
        .filter(([, r]) => r && typeof r === 'object' && !Array.isArray(r))
        .map(([s, r]) => [s, f(r.firstStartMs, 0), r.error ? `— (${r.error}; ${r.startedCount ?? 0} started)` : f(r.allStartedMs, 0), f(r.allFinishedMs, 0), f(r.lost, 0)]),
    ),
  );
  const C = results.burstCpu;
  if (C['engine+process'] && !C['engine+process'].error) {
    out.push(
      '',
      'where its CPU goes (cases/burstCpu.js, CPU-seconds from the due time to the last end, /proc):',
      '',
      table(
        ['system', 'all finished (s)', 'whole machine', "the engine's process (the floor: its Node)", 'spawner process', 'the shells'],
        Object.entries(C).map(([s, r]) => [s, f(r.wallMs / 1000, 1), f(r.machineCpuS, 1), f(r.ownCpuS, 1), s === 'spawn floor' ? '—' : f(r.helperCpuS, 1), f(r.shellsCpuS, 1)]),
      ),
    );
  }
  const wide = B['engine, all at once'];
  out.push('', `target: all 10,000 started durably within 1 s (engine, no-op runner, no concurrency cap) ${mark(wide.allStartedMs <= 1000)}`, '');
  out.push('3. Tick cost against history size', '');
  const T = results.tick;
  out.push(
    table(
      ['finished runs', 'idle tick CPU (ms)', 'retention tick, all kept: p50 / max (ms)', 'durable tick commit p50 (ms)', 'p99 (ms)', 'naive: export + save (ms)'],
      Object.entries(T).map(([rows, r]) => [Number(rows).toLocaleString('en'), f(r.idleTickCpuMs, 3), `${f(r.pruneTickMs, 1)} / ${f(r.pruneTickMaxMs, 1)}`, f(r.durableCommitMs), f(r.durableCommitP99Ms), f(r.naiveSaveMs, 0)]),
    ),
  );
  const big = T[500000];
  out.push(
    '',
    `targets: idle tick ≤ 0.1 ms CPU at every size ${mark(Object.values(T).every((r) => r.idleTickCpuMs <= 0.1))} · durable tick ≤ 2 ms at 500k ${mark(big?.durableCommitMs <= 2)} · retention tick under 20 ms at every size ${mark(Object.values(T).every((r) => r.pruneTickMaxMs < 20))}`,
    '',
  );
  out.push('4. Idle cost, 10,000 actions scheduled a day ahead', '');
  out.push(table(['system', 'CPU (% of one core)', 'RSS (MB)'], Object.entries(results.idle).map(([s, r]) => [s, f(r.cpuPercent, 3), f(r.rssMb, 0)])));
  out.push('', `target: idle CPU ≤ 0.5 % ${mark(results.idle.engine?.cpuPercent <= 0.5)}`, '');
  const S = results.startup;
  out.push('5. Start-up with 100,000 finished runs and a 4,999-record journal not yet in a snapshot', '');
  out.push(`The folder as a crash left it: the journal's first ${f(S.fromCheckpoint, 0)} records in a checkpoint a worker wrote meanwhile, the rest replayed.`, '');
  out.push(
    table(
      ['snapshot', 'load + recovery (ms)', 'longest event-loop wait meanwhile (ms)', 'RSS after start (MB)', 'RSS peak (MB)', 'RSS settled, 12 s later (MB)'],
      [
        ['paged (the owner), from the checkpoint', f(S.startupMs, 0), f(S.longestStallMs, 0), f(S.rssMb, 0), f(S.rssPeakMb, 0), f(S.rssSettledMb, 0)],
        ['paged, no checkpoint (the whole journal replayed)', f(results.startupNoCheckpoint?.startupMs, 0), f(results.startupNoCheckpoint?.longestStallMs, 0), f(results.startupNoCheckpoint?.rssMb, 0), f(results.startupNoCheckpoint?.rssPeakMb, 0), f(results.startupNoCheckpoint?.rssSettledMb, 0)],
        ['read whole (SDLC_PAGED_SNAPSHOT=off), from the checkpoint', f(results.startupWhole?.startupMs, 0), f(results.startupWhole?.longestStallMs, 0), f(results.startupWhole?.rssMb, 0), f(results.startupWhole?.rssPeakMb, 0), f(results.startupWhole?.rssSettledMb, 0)],
        ['a follower (a second window): read whole, from the checkpoint, in slices', f(results.startupFollower?.startupMs, 0), f(results.startupFollower?.longestStallMs, 0), '—', f(results.startupFollower?.rssPeakMb, 0), '—'],
      ],
    ),
  );
  out.push('', `targets: start-up ≤ 500 ms ${mark(S.startupMs <= 500)} · RSS ≤ 150 MB ${mark(S.rssSettledMb <= 150)} (settled; ${mark(S.rssMb <= 150)} right after start)`, '');
  const X = results.extension;
  out.push('6. The extension', '');
  out.push(table(['activation (ms, real VS Code)', '.vsix size'], [[X.activationMs !== undefined ? f(X.activationMs, 1) : `— (${X.activationNote})`, `${(X.vsixBytes / 1024).toFixed(0)} KiB`]]));
  out.push('', `targets: activation ≤ 100 ms ${mark(X.activationMs <= 100)} · .vsix ≤ 2 MB ${mark(X.vsixBytes <= 2 * 1024 * 1024)}`);
  const P = results.panel;
  out.push('', '7. The orchestrator panel, 10,000 finished runs', '');
  out.push(
    table(
      ['host: first history page (ms)', 'host: all pages (ms)', 'host: one delta (ms)', 'page: tree rows (ms)', 'page: filtered (ms)', 'page: after a delta (ms)'],
      [[f(P.firstPageMs, 1), f(P.allPagesMs, 1), f(P.deltaMs, 3), f(P.treeRowsMs, 1), f(P.filterMs, 1), f(P.afterDeltaMs, 1)]],
    ),
  );
  out.push('', `targets: no host step over 16 ms (one frame) ${mark(P.firstPageMs <= 16 && P.deltaMs <= 16)} · the page rebuilds its rows within a frame ${mark(P.afterDeltaMs <= 16)}`);
  const R = results.requests;
  out.push('', '8. Requests under contention, and verify', '');
  out.push(
    table(
      ['50 parallel `add`s, no orchestrator: p50 / slowest (ms, node start-up included)', 'stored / exited 0', '50 requests to a running owner (tick 500 ms): p50 / slowest (ms)', '`verify`, 10,000 runs (ms)'],
      [[`${f(R.cli.p50, 0)} / ${f(R.cli.max, 0)}`, `${f(R.cli.stored, 0)} / ${f(R.cli.exitedZero, 0)}`, `${f(R.owner.p50, 0)} / ${f(R.owner.max, 0)}`, f(R.verify.ms, 0)]],
    ),
  );
  out.push('', `targets: every add stored once and exiting 0 ${mark(R.cli.stored === 50 && R.cli.exitedZero === 50)} · slowest within 5 s ${mark(R.cli.max <= 5000)} · each reply within two ticks ${mark(R.owner.max <= 1000)}`);
  const D = results.definitions;
  out.push('', '9. The actions file: 1,000 actions of every kind, then a one-line change (medians of 3 inside the case)', '');
  out.push(
    table(
      ['parse + check (ms)', 'first reconcile, 1,000 created (ms)', 'one-line change (ms)', 'action rows it wrote', 'same file again (ms) / writes', 'saved → event, real engine (ms)', 'longest stall meanwhile (ms)'],
      [[f(D.parseMs, 0), f(D.createMs, 0), f(D.oneLineMs, 1), `${f(D.oneLineActionRowsWritten, 0)} (${(D.oneLineUpdated ?? []).join(', ')})`, `${f(D.unchangedMs, 1)} / ${f(D.unchangedWrites, 0)}`, f(D.saveToEventMs, 0), f(D.maxStallMs, 1)]],
    ),
  );
  out.push('', `targets: only the changed action rewritten ${mark(JSON.stringify(D.oneLineUpdated) === '["a7"]')} · nothing written for an unchanged file ${mark(D.unchangedWrites === 0)} · no stall over 20 ms ${mark(D.maxStallMs <= 20)} · applied within a second ${mark(D.saveToEventMs <= 1000)}`);
  const V = results.devTriggers;
  out.push('', '10. Development-event triggers (@parcel/watcher in the headless engine; tick 500 ms)', '');
  out.push(
    table(
      ['file written → run started, minus the 300 ms debounce: p50 / p99 (ms)', '10,000 files in ~1.3 s: runs / files told', 'tick at rest → during the storm: mean / max (ms)', 'longest stall in the storm (ms)'],
      [[`${f(V.latency.p50, 1)} / ${f(V.latency.p99, 1)}`, `${f(V.storm.runs, 0)} / ${f(V.storm.filesToldToRuns, 0)}`, `${f(V.storm.quietTickMeanMs, 1)} / ${f(V.storm.quietTickMaxMs, 1)} → ${f(V.storm.stormTickMeanMs, 1)} / ${f(V.storm.stormTickMaxMs, 1)}`, f(V.storm.maxStallMs, 1)]],
    ),
  );
  out.push('');
  out.push(
    table(
      ['watching 100,000 files (1,011 folders)', 'ready (ms)', 'CPU to set up (ms)', 'memory (MiB)', 'idle CPU (%)', 'longest stall while setting up (ms)', 'one change deep in the tree → run (ms, minus debounce)'],
      [V.tree, V.treeChokidar].map((t, i) => [i ? 'chokidar (the fallback), 1 run' : '@parcel/watcher', f(t.readyMs, 0), f(t.setupCpuMs, 0), f(t.rssAtRestMiB, 1), f(t.idleCpuPercent, 2), f(t.setupMaxStallMs, 1), f(t.changeToStartMs, 0)]),
    ),
  );
  out.push('', `targets: a storm is a handful of runs ${mark(V.storm.runs <= 5)} · no tick over 20 ms ${mark(V.storm.stormTickMaxMs <= 20)} · a change runs within 100 ms of its debounce ${mark(V.latency.p99 <= 100)} · 100,000 files watched in under 100 MiB ${mark(V.tree.rssAtRestMiB <= 100)} with no stall over 20 ms ${mark(V.tree.setupMaxStallMs <= 20)}`);
  const XP = results.export;
  out.push('', '11. Export to GitHub Actions: 1,000 actions of every trigger → 800 workflows (1.3 MB)', '');
  out.push(
    table(
      ['generate (ms)', 'actionlint: load / all 800 (ms) / findings', 'write (ms)', '--check in process / the real CLI (ms)', 'panel states after a save: wall / longest stall (ms)', 'the VS Code command (generate + lint): wall / longest stall (ms)'],
      [[f(XP.generateMs, 0), `${f(XP.lintLoadMs, 0)} / ${f(XP.lintMs, 0)} / ${f(XP.findings, 0)}`, f(XP.writeMs, 0), `${f(XP.checkMs, 1)} / ${f(XP.cliCheckMs, 0)}`, `${f(XP.panelStateMs, 0)} / ${f(XP.panelMaxStallMs, 1)}`, `${f(XP.exportCommandMs, 0)} / ${f(XP.exportMaxStallMs, 1)}`]],
    ),
  );
  out.push('', `targets: every workflow passes actionlint ${mark(XP.findings === 0)} · --check finds nothing to do after an export ${mark(XP.checkPending === 0)} · no stall over 20 ms in the extension host ${mark(XP.panelMaxStallMs <= 20 && XP.exportMaxStallMs <= 20)}`);
  const F = results.feed;
  out.push('', '12. The change feed and the outbox: the owner in its own process, 50 runs a second for 10 s through the API', '');
  out.push(
    table(
      ['events / at each of 10 SSE clients', 'event recorded → arrival p50 / p99 / max (ms)', 'missed / repeated', 'events --follow: → printed p50 / p99 (ms)', 'tick p50 / p99 (ms): no client', '10 clients + 1 that never reads (cut off)', 'notification: run end → receiver p50 / p99 (ms), 200 runs'],
      [[`${f(F.events, 0)} / ${f(F.samples / 10, 0)}`, `${f(F.latencyP50, 0)} / ${f(F.latencyP99, 0)} / ${f(F.latencyMax, 0)}`, `${f(F.missed, 0)} / ${f(F.repeated, 0)}`, `${f(F.followP50, 0)} / ${f(F.followP99, 0)}`, `${f(F.tickP50NoClients, 2)} / ${f(F.tickP99NoClients, 2)}`, `${f(F.tickP50Clients, 2)} / ${f(F.tickP99Clients, 2)} (${f(F.slowCutOff, 0)})`, `${f(F.notifyP50, 0)} / ${f(F.notifyP99, 0)} (${f(F.notifications, 0)} delivered)`]],
    ),
  );
  out.push('', `targets: SSE p99 under 50 ms with 10 clients ${mark(F.latencyP99 < 50)} · every event exactly once ${mark(F.missed === 0 && F.repeated === 0)} · the tick stays flat with a client that never reads (p99 within 1.5×) ${mark(F.tickP99Clients <= 1.5 * F.tickP99NoClients && F.slowCutOff >= 1)} · every notification delivered ${mark(F.notifications === 200)}`);
  const FL = results.flows;
  out.push('', '13. Flows (no-op runner, max-concurrent 1,024) and the claim', '');
  out.push(
    table(
      ['fan-out: root → 999 steps: root end → step start p50 / p99 (ms), all done (ms)', 'chain of 1,000: step end → next start p50 / p99 (ms), all done (ms)', 'claim of 16 with 10,000 ready: all priority 0 / 4 levels (ms)', 'claimed from priority (of 0, 1, 5, 10)'],
      [[`${f(FL.fanoutP50, 0)} / ${f(FL.fanoutP99, 0)}, ${f(FL.fanoutWallMs, 0)}`, `${f(FL.chainP50, 2)} / ${f(FL.chainP99, 2)}, ${f(FL.chainWallMs, 0)}`, `${f(FL.claimFlatMs, 2)} / ${f(FL.claimMixedMs, 2)}`, `${f(FL.claimMixedLowest, 0)}–${f(FL.claimMixedHighest, 0)}`]],
    ),
  );
  out.push('', `targets: every step ran once, in one flow ${mark(FL.fanoutRan === 1000 && FL.chainRan === 1000 && FL.chainFlows === 1 && FL.chainStatus === 'succeeded')} · a chain's next step starts within 5 ms (p50) ${mark(FL.chainP50 < 5)} · 999 steps queued and started within 1 s of their upstream's end ${mark(FL.fanoutP99 < 1000)} · priorities cost under 1.5× the flat claim ${mark(FL.claimMixedMs < 1.5 * FL.claimFlatMs)} · the highest priority first ${mark(FL.claimMixedLowest === 10)}`);
  const IN = results.insight;
  out.push('', '14. Insight: the Gantt view with 10,000 runs of 20 actions in the last hour; health over 100,000 runs of 1,000 actions', '');
  out.push(
    table(
      ['Gantt: one page of 2,000 on the host / all 10,000 in 5 pages (ms)', 'lanes laid out (ms)', 'one frame: all 10,000 bars / zoomed to 5 min (ms)', 'health of one action (ms)', 'health of all 1,000 in process / `stats --json` (ms)'],
      [[`${f(IN.ganttPageMs, 1)} / ${f(IN.ganttQueryMs, 1)}`, f(IN.ganttLayoutMs, 2), `${f(IN.ganttFrameMs, 2)} / ${f(IN.ganttZoomedFrameMs, 2)}`, f(IN.healthOneMs, 2), `${f(IN.healthAllMs, 0)} / ${f(IN.statsCliMs, 0)}`]],
    ),
  );
  out.push('', `targets: no call on the extension host over 20 ms (a Gantt page, one action's health) ${mark(IN.ganttPageMs < 20 && IN.healthOneMs < 20)} · a frame's work within a 16 ms frame with 10,000 runs ${mark(IN.ganttLayoutMs + IN.ganttFrameMs < 16)} · stats on 100,000 runs within 1 s ${mark(IN.statsCliMs < 1000)}`);
  const SN = results.snapshot;
  out.push('', '15. Snapshots: event-loop delay while the owner commits (one every 2 ms) through a snapshot (ms; monitorEventLoopDelay max and p99, a 1 ms heartbeat\'s longest gap)', '');
  out.push(
    table(
      ['history rows', 'database (MB)', 'in a worker: max / p99 / heartbeat', 'snapshot took (commits meanwhile)', 'RSS before / peak while written / after (MB)', 'on this thread (before): max / p99'],
      [100_000, 500_000].map((rows) => {
        const r = SN[rows] ?? {};
        if (r.error) return [rows.toLocaleString('en'), r.error, '', '', '', ''];
        return [rows.toLocaleString('en'), f(r.worker.dbMb, 0), `${f(r.worker.stallMaxMs, 1)} / ${f(r.worker.stallP99Ms, 1)} / ${f(r.worker.heartbeatMaxMs, 1)}`, `${f(r.worker.snapshotMs, 0)} (${r.worker.commitsDuringSnapshot})`, `${f(r.worker.rssBeforeMb, 0)} / ${f(r.worker.rssPeakMb, 0)} / ${f(r.worker.rssAfterMb, 0)}`, `${f(r.main.stallMaxMs, 0)} / ${f(r.main.stallP99Ms, 1)}`];
      }),
    ),
  );

  out.push('', '16. The performance targets, from this run', '', targetsTable(results));
  out.push('', `(${((Date.now() - t0) / 60_000).toFixed(1)} min)`);
  const text = out.join('\n');
  console.log(text);
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const stamp = results.machine.date.replace(/[:.]/g, '-');
  fs.writeFileSync(path.join(dir, `${stamp}.json`), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'latest.md'), text + '\n');
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
