// Crash safety with the real CLI as a child process: SIGKILL at random moments, restart,
// and check that nothing fired twice, nothing was lost, and the database is sound.
import * as assert from 'assert';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { sdlcPaths } from '../../src/core/paths';
import { inspectLeftRun, POSIX_WRAPPER, removeStaleRunStatus, RunOutputFile, runStatusFiles } from '../../src/core/runStatus';
import { ProcessRunner } from '../../src/core/processRunner';
import type { RunOutcome } from '../../src/core/runner';
import { assertEachRanOnce, assertSqliteIntegrity, cli, cliJson, engine, exited, lines, readFolder, sleep, spawnCli, tmpWorkspace, untilOwner, waitFor } from './helpers';

describe('crash safety (SIGKILL the CLI at random moments)', function () {
  this.timeout(180_000);

  it('never fires an action twice, records every interrupted run as recovered, and leaves a sound database', async () => {
    const ws = tmpWorkspace();
    const out = path.join(ws, 'fired.txt');
    const N = 60;
    // One-shot actions spread over ~6 s; each takes a little while, so kills land mid-run too.
    const specs = Array.from({ length: N }, (_, i) => ({
      name: `job-${i}`,
      trigger: { kind: 'delay', delay: `${200 + i * 100}ms` },
      run: { command: `sleep 0.${1 + (i % 3)}; echo "$SDLC_ACTION_ID $SDLC_RUN_ID" >> fired.txt` },
    }));
    fs.writeFileSync(path.join(ws, 'actions.json'), JSON.stringify(specs));
    const added = cliJson<{ id: string }[]>(['apply', '--workspace', ws, '--file', path.join(ws, 'actions.json')]);
    assert.strictEqual(added.length, N);

    let kills = 0;
    for (let round = 0; round < 40 && kills < 15; round++) {
      const child = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
      if (!(await untilOwner(ws, child))) {
        child.kill('SIGKILL');
        await exited(child);
        continue;
      }
      await sleep(Math.floor(Math.random() * 500));
      child.kill('SIGKILL');
      await exited(child);
      kills++;
      const left = cliJson<unknown[]>(['list', '--workspace', ws]).length;
      if (left === 0) break;
    }
    assert.ok(kills >= 5, `only ${kills} kills happened`);

    // Let the last orchestrator finish everything, then let stray children finish writing.
    const final = spawnSync(process.execPath, [path.resolve(__dirname, '../../../bin/sdlc-orchestrator.js'), 'run', '--workspace', ws, '--tick', '50', '--exit-when-idle', '--quiet'], {
      timeout: 60_000,
    });
    assert.strictEqual(final.status, 0, String(final.stderr));
    await sleep(800);

    const fired = lines(out).map((l) => l.split(' '));
    const actionIds = fired.map(([a]) => a);
    const runIds = fired.map(([, r]) => r);
    assert.strictEqual(new Set(actionIds).size, actionIds.length, 'an action fired twice');
    assert.strictEqual(new Set(runIds).size, runIds.length, 'a run fired twice');

    const state = await readFolder(ws, (db) => ({
      actions: db.store.allActions(),
      runs: db.store.history(10_000),
      events: db.store.eventsSince(0, 100_000),
      running: db.store.runningRuns().length,
      integrity: db.store.db.exec('PRAGMA integrity_check')[0].values[0][0],
    }));
    assert.strictEqual(state.integrity, 'ok');
    assert.strictEqual(state.running, 0, 'a run is still marked running');
    assert.strictEqual(state.actions.length, N, 'an action was lost');
    const recoveredEvents = state.events.filter((e) => e.type === 'task.recovered');
    for (const r of state.runs.filter((x) => x.reason === 'recovered from restart')) {
      assert.ok(recoveredEvents.some((e) => e.runId === r.runId), `no task.recovered event for ${r.runId}`);
    }
    const cutOff = assertEachRanOnce(state.actions, state.runs, runIds);
    assertSqliteIntegrity(path.join(ws, '.sdlc', 'orchestrator.db'));
    const finishedWhileDown = recoveredEvents.filter((e) => e.data.finishedWhileDown || e.data.adopted).length;
    console.log(`      ${kills} kills, ${fired.length} runs fired, ${recoveredEvents.length} found running after a kill: ${finishedWhileDown} had finished or were still going (recorded as they ended), ${cutOff} cut off`);
  });

  it('a run cut off with its orchestrator is run again when its policy says retry', async () => {
    const ws = tmpWorkspace();
    cliJson(['add', '--workspace', ws, '--name', 'resilient', '--in', '100ms', '--on-interrupted', 'retry', '--run', 'echo "$SDLC_RUN_ID" >> started.txt; sleep 1; echo done >> done.txt']);
    const child = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
    await waitFor(() => lines(path.join(ws, 'started.txt')).length === 1, 8000, 'the first run to start');
    // The machine goes down: the orchestrator and the command with it.
    const [runId] = lines(path.join(ws, 'started.txt'));
    const pid = Number(fs.readFileSync(path.join(sdlcPaths(ws).runs, `${runId}.pid`), 'utf8'));
    child.kill('SIGKILL');
    process.kill(-pid, 'SIGKILL');
    await exited(child);
    const r = cli(['run', '--workspace', ws, '--tick', '50', '--exit-when-idle', '--quiet']);
    assert.strictEqual(r.code, 0, r.stderr);
    const runs = cliJson<{ status: string; reason?: string }[]>(['history', '--workspace', ws]);
    assert.deepStrictEqual(runs.map((x) => x.status).sort(), ['failed', 'succeeded'], JSON.stringify(runs));
    assert.ok(runs.some((x) => /^recovered from restart/.test(x.reason ?? '')), JSON.stringify(runs));
    const events = cliJson<{ type: string }[]>(['events', '--workspace', ws]).map((e) => e.type);
    assert.ok(events.includes('task.recovered') && events.includes('task.retried'));
    assert.strictEqual(lines(path.join(ws, 'done.txt')).length, 1);
  });

  it('a run that ended while its orchestrator was killed is recorded with its real exit code; one still going is adopted, not run again', async () => {
    const ws = tmpWorkspace();
    // Both are set to retry when interrupted: neither is, so neither may run twice.
    cliJson(['add', '--workspace', ws, '--name', 'fails-alone', '--in', '100ms', '--on-interrupted', 'retry', '--run', 'echo "$SDLC_RUN_ID" >> started.txt; sleep 0.5; exit 3']);
    cliJson(['add', '--workspace', ws, '--name', 'long', '--in', '100ms', '--on-interrupted', 'retry', '--run', 'echo "$SDLC_RUN_ID" >> started.txt; sleep 3; echo done >> done.txt']);
    const child = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
    await waitFor(() => lines(path.join(ws, 'started.txt')).length === 2, 8000, 'both runs to start');
    child.kill('SIGKILL');
    await exited(child);
    await sleep(1000); // the first has ended by now, the second is still going
    const r = cli(['run', '--workspace', ws, '--tick', '50', '--exit-when-idle', '--quiet']);
    assert.strictEqual(r.code, 0, r.stderr);
    const runs = cliJson<{ name: string; status: string; exitCode: number | null; reason?: string }[]>(['history', '--workspace', ws]);
    const byName = Object.fromEntries(runs.map((x) => [x.name, x]));
    assert.strictEqual(runs.length, 2, JSON.stringify(runs));
    assert.strictEqual(byName['fails-alone'].status, 'failed');
    assert.strictEqual(byName['fails-alone'].exitCode, 3);
    assert.match(byName['fails-alone'].reason ?? '', /exit code 3 \(finished while the orchestrator was not running\)/);
    assert.strictEqual(byName.long.status, 'succeeded');
    assert.strictEqual(byName.long.exitCode, 0);
    assert.strictEqual(lines(path.join(ws, 'started.txt')).length, 2, 'a run was started again');
    assert.strictEqual(lines(path.join(ws, 'done.txt')).length, 1);
    const events = cliJson<{ type: string; data: Record<string, unknown> }[]>(['events', '--workspace', ws]);
    assert.ok(!events.some((e) => e.type === 'task.retried'));
    assert.ok(events.some((e) => e.type === 'task.recovered' && e.data.adopted));
    assert.ok(events.some((e) => e.type === 'task.recovered' && e.data.finishedWhileDown));
    assert.deepStrictEqual(fs.readdirSync(sdlcPaths(ws).runs), [], 'status files left behind');
  });

  it('a run that prints after its owner was killed is not killed by its own output, and its output is kept', async () => {
    const ws = tmpWorkspace();
    // Printing to a pipe whose reader died is SIGPIPE: the run's output goes to a file instead.
    const script = 'echo "$SDLC_RUN_ID" >> started.txt; echo before; sleep 1; echo after the owner died; echo and on stderr >&2; sleep 1; echo done >> done.txt';
    cliJson(['add', '--workspace', ws, '--name', 'chatty', '--in', '100ms', '--run', script]);
    cliJson(['add', '--workspace', ws, '--name', 'chatty-long', '--in', '100ms', '--run', `${script}; sleep 2; echo still here`]);
    const child = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
    await waitFor(() => lines(path.join(ws, 'started.txt')).length === 2, 8000, 'both runs to start');
    child.kill('SIGKILL');
    await exited(child);
    await waitFor(() => lines(path.join(ws, 'done.txt')).length === 2, 10_000, 'both to print on after the kill and get to the end');
    // One ended while nobody owned the folder, the other is adopted and ends under the new owner.
    const r = cli(['run', '--workspace', ws, '--tick', '50', '--exit-when-idle', '--quiet']);
    assert.strictEqual(r.code, 0, r.stderr);
    const runs = cliJson<{ name: string; status: string; exitCode: number | null; reason?: string; outputTail: string }[]>(['history', '--workspace', ws]);
    const byName = Object.fromEntries(runs.map((x) => [x.name, x]));
    for (const name of ['chatty', 'chatty-long']) {
      assert.deepStrictEqual([byName[name].status, byName[name].exitCode], ['succeeded', 0], `${name}: ${byName[name].reason}`);
      assert.match(byName[name].outputTail, /^before\nafter the owner died\nand on stderr\n/, 'what it printed, before and after the kill, stdout and stderr in order');
    }
    assert.match(byName['chatty-long'].outputTail, /still here\n$/);
    assert.deepStrictEqual(fs.readdirSync(sdlcPaths(ws).runs), [], 'status and output files left behind');
  });

  it('a long run\'s output file stays under its cap while its tail is kept, for a runner\'s own runs and for adopted ones', async function () {
    this.timeout(30_000);
    const dir = tmpWorkspace();
    const runs = path.join(dir, 'runs');
    fs.mkdirSync(runs);
    // 200 KB at once, then a pause long enough for a look at the file (every 2 s), then one more line.
    const command = 'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); echo "line $i $(printf %090d 0)"; done; sleep 3; echo last';
    const runner = new ProcessRunner({ outputCapBytes: 64 * 1024, tailChars: 1000 });
    const sizes: number[] = [];
    const out = runStatusFiles(runs, 'r1').out;
    const probe = setInterval(() => fs.existsSync(out) && sizes.push(fs.statSync(out).size), 100);
    const outcome = await new Promise<RunOutcome>((resolve) =>
      runner.start({ runId: 'r1', actionId: 'a', name: 'chatty', attempt: 1, command, cwd: dir, env: {}, workspace: dir, statusDir: runs }, resolve),
    );
    clearInterval(probe);
    assert.strictEqual(outcome.status, 'succeeded');
    assert.ok(Math.max(...sizes) >= 200_000, 'it did write past the cap');
    assert.ok(sizes.some((size, i) => i > 0 && size < sizes[i - 1]), `the file was emptied once past the cap: ${sizes.join(',')}`);
    assert.match(outcome.outputTail ?? '', /line 2000 0+\nlast\n$/, 'the tail from before the emptying, then what came after');
    assert.ok((outcome.outputTail ?? '').length <= 1000);
    // An adopted run is watched the same way by the new owner (RunOutputFile), with the default cap.
    const kept = new RunOutputFile(runs, 'r2', 50, 1000);
    fs.writeFileSync(runStatusFiles(runs, 'r2').out, `${'x'.repeat(1500)}\nend of the first part\n`);
    kept.check();
    assert.strictEqual(fs.statSync(runStatusFiles(runs, 'r2').out).size, 0, 'emptied past its cap');
    fs.appendFileSync(runStatusFiles(runs, 'r2').out, 'then more\n');
    assert.match(kept.tail(), /end of the first part\nthen more\n$/);
    assert.strictEqual(kept.tail().length, 50);
  });

  it("a run whose output file cannot be written fails, saying so and naming the file", async () => {
    const dir = tmpWorkspace();
    const runs = path.join(dir, 'runs');
    fs.mkdirSync(path.join(runs, 'r1.out'), { recursive: true }); // a folder where the output file goes
    const outcome = await new Promise<RunOutcome>((resolve) =>
      new ProcessRunner().start({ runId: 'r1', actionId: 'a', name: 'blocked', attempt: 1, command: 'touch ran', cwd: dir, env: {}, workspace: dir, statusDir: runs }, resolve),
    );
    assert.strictEqual(outcome.status, 'failed');
    assert.ok(!fs.existsSync(path.join(dir, 'ran')), 'the command never ran');
    assert.notStrictEqual(outcome.exitCode, 0);
    // The spawner finds it before the shell starts (the reason says so); a shell started directly says it on stderr (the tail).
    const said = `${outcome.reason ?? ''} ${outcome.outputTail ?? ''}`;
    assert.match(said, /r1\.out/, `the complaint names the file: ${said}`);
  });

  it('a shell its owner started just before dying runs its command exactly when the next owner finds it started', async () => {
    // The next owner looks at runs whose shell may not have written its pid yet. Either the
    // shell creates the pid file first (the run is adopted or its exit read), or the owner's
    // tombstone does (recorded cut off) and the shell then exits without running the command.
    const dir = path.join(tmpWorkspace(), 'runs');
    fs.mkdirSync(dir);
    const verdicts = new Map<string, string>();
    const shells: Promise<number | null>[] = [];
    for (let i = 0; i < 60; i++) {
      const runId = `run-${i}`;
      const files = runStatusFiles(dir, runId);
      const child = spawn('/bin/sh', ['-c', POSIX_WRAPPER, 'sdlc-run', `echo ${runId} >> ran.txt`, files.pid, files.out], { cwd: dir, detached: true, stdio: 'ignore' });
      shells.push(new Promise((resolve) => child.on('exit', (code) => resolve(code))));
      if (i % 3) await sleep(i % 7); // the owner looks at once, or a few ms later
      verdicts.set(runId, inspectLeftRun(dir, runId).kind);
    }
    const codes = await Promise.all(shells);
    const ran = new Set(lines(path.join(dir, 'ran.txt')));
    for (const [runId, kind] of verdicts) {
      if (kind === 'gone') assert.ok(!ran.has(runId), `${runId} was recorded cut off but ran`);
      else assert.ok(ran.has(runId), `${runId} was found ${kind} but never ran`);
    }
    const cut = [...verdicts.values()].filter((k) => k === 'gone').length;
    assert.strictEqual(codes.filter((c) => c === 125).length, cut, 'each shell that lost to a tombstone exits 125');
    assert.ok(cut > 0 && cut < 60, `both outcomes happen (${cut} of 60 cut off)`);
    // The tombstones outlive the clean-up of a new owner's start, so a shell still slower than this cannot run later.
    const tombstones = () => fs.readdirSync(dir).filter((f) => f.endsWith('.pid') && fs.readFileSync(path.join(dir, f), 'utf8') === 'cut off\n').length;
    assert.strictEqual(tombstones(), cut);
    removeStaleRunStatus(dir, new Set());
    assert.strictEqual(tombstones(), cut);
    assert.strictEqual(fs.readdirSync(dir).filter((f) => f !== 'ran.txt').length, cut, 'only the tombstones are left');
  });
});

describe('two orchestrators on one folder', function () {
  this.timeout(60_000);

  it('one owns and ticks, the other follows and forwards requests; each action fires exactly once', async () => {
    const ws = tmpWorkspace();
    const a = await engine(ws, { label: 'window-a' });
    const b = await engine(ws, { label: 'window-b' });
    try {
      assert.strictEqual(a.currentRole, 'owner');
      assert.strictEqual(b.currentRole, 'follower');
      const cmd = 'echo "$SDLC_ACTION_NAME" >> fired.txt';
      for (let i = 0; i < 10; i++) {
        const via = i % 2 ? a : b;
        await via.add({ name: `job-${i}`, trigger: { kind: 'delay', delay: `${100 + i * 30}ms` }, run: { command: cmd } });
      }
      await waitFor(() => lines(path.join(ws, 'fired.txt')).length >= 10, 10_000, 'ten runs');
      // The follower's view catches up from the owner's journal.
      await waitFor(() => b.history(100).length === 10, 3000, 'the follower to see the history');
      // The owner goes away; the follower takes over and keeps going.
      await a.stop();
      await waitFor(() => b.currentRole === 'owner', 5000, 'the follower to take over');
      for (let i = 10; i < 15; i++) await b.add({ name: `job-${i}`, trigger: { kind: 'delay', delay: '50ms' }, run: { command: cmd } });
      await waitFor(() => lines(path.join(ws, 'fired.txt')).length >= 15, 10_000, 'fifteen runs');
      await sleep(300);
      const fired = lines(path.join(ws, 'fired.txt')).sort();
      assert.deepStrictEqual(fired, Array.from({ length: 15 }, (_, i) => `job-${i}`).sort());
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a follower loads each snapshot the owner writes without holding its thread, and its view only moves forward', async () => {
    const ws = tmpWorkspace();
    // Snapshots every few commits, in a worker and on the owner's thread in turn (small database).
    const a = await engine(ws, { label: 'window-a', snapshotPolicy: { maxJournalRecords: 4, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: 8 } });
    const b = await engine(ws, { label: 'window-b', tickMs: 20 });
    try {
      assert.strictEqual(b.currentRole, 'follower');
      const views = new Set<unknown>();
      const seen: number[] = [];
      let turns = 0;
      const beat = setInterval(() => turns++, 1);
      const watch = setInterval(() => {
        views.add((b as unknown as { db: unknown }).db);
        seen.push(b.listActions().length);
      }, 5);
      try {
        for (let i = 0; i < 40; i++) {
          await a.add({ name: `job-${i}`, trigger: { kind: 'manual' }, run: { command: 'true' } });
          await sleep(15); // the owner snapshots between its ticks
        }
        await waitFor(() => b.listActions().length === 40, 5000, 'the follower to see every action');
      } finally {
        clearInterval(watch);
        clearInterval(beat);
      }
      assert.ok(views.size >= 3, `the follower loaded the owner's snapshots (${views.size} views)`);
      assert.ok(seen.every((n, i) => i === 0 || n >= seen[i - 1]), `its count never went back: ${seen.join(',')}`);
      assert.ok(turns > 0);
      assert.deepStrictEqual(b.listActions().map((x) => x.name).sort(), a.listActions().map((x) => x.name).sort());
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('the CLI and an engine in another process: the follower takes over at once when the owner is killed', async () => {
    const ws = tmpWorkspace();
    const owner = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
    assert.ok(await untilOwner(ws, owner), 'the CLI did not take the folder');
    const follower = await engine(ws, { label: 'vscode' });
    try {
      assert.strictEqual(follower.currentRole, 'follower');
      const cmd = 'echo "$SDLC_ACTION_NAME" >> fired.txt';
      await follower.add([
        { name: 'soon', trigger: { kind: 'delay', delay: '100ms' }, run: { command: cmd } },
        { name: 'later', trigger: { kind: 'delay', delay: '2500ms' }, run: { command: cmd } },
      ]);
      await waitFor(() => lines(path.join(ws, 'fired.txt')).length === 1, 5000, 'the first run by the CLI');
      owner.kill('SIGKILL');
      await exited(owner);
      const killedAt = Date.now();
      await waitFor(() => follower.currentRole === 'owner', 5000, 'takeover');
      const takeoverMs = Date.now() - killedAt;
      assert.ok(takeoverMs < 1500, `takeover took ${takeoverMs} ms`);
      await waitFor(() => lines(path.join(ws, 'fired.txt')).length === 2, 5000, 'the second run by the new owner');
      await sleep(300);
      assert.deepStrictEqual(lines(path.join(ws, 'fired.txt')), ['soon', 'later']);
    } finally {
      if (owner.exitCode === null) owner.kill('SIGKILL');
      await follower.stop();
    }
  });

  it('losing the lease pauses ticking without crashing', async () => {
    const ws = tmpWorkspace();
    const o = await engine(ws);
    try {
      fs.rmSync(sdlcPaths(ws).lease, { recursive: true, force: true }); // someone broke our lock
      await waitFor(() => o.warnings.some((w) => /lost ownership/.test(w)), 5000, 'the loss to be noticed');
      // It follows, then takes the (now free) folder back and works again.
      await waitFor(() => o.currentRole === 'owner', 5000, 'ownership again');
      await o.add({ name: 'after', trigger: { kind: 'delay', delay: '10ms' }, run: { command: 'true' } });
      await waitFor(() => o.history().length === 1, 3000, 'a run');
    } finally {
      await o.stop();
    }
  });
});
