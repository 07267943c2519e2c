// Chaos with the real CLI: 100 SIGKILLs of the owner while work falls due, 20 rounds of two or
// three owners started at the same moment after the owner was killed, and an owner frozen with
// SIGSTOP past its lease and then resumed. Afterwards nothing ran twice, nothing was lost, the
// journal was never damaged, the snapshot passes sqlite3's integrity check, and `verify` is clean.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { sdlcPaths } from '../../src/core/paths';
import { assertEachRanOnce, assertSqliteIntegrity, CLI, cli, cliJson, exited, lines, readFolder, sleep, spawnCli, tmpWorkspace, untilOwner } from './helpers';

const run = (ws: string) => spawnCli(['run', '--workspace', ws, '--tick', '50', '--lease-stale', '2000', '--quiet']);

describe('chaos: kills, simultaneous owners, a frozen owner', function () {
  this.timeout(300_000);

  it('0 runs twice, 0 lost, the journal never damaged, the database sound, verify clean', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    const N = 200;
    // One-shot actions falling due over the whole test; some take a while, so kills land mid-run too.
    const specs = Array.from({ length: N }, (_, i) => ({
      name: `job-${i}`,
      trigger: { kind: 'delay', delay: `${300 + i * 300}ms` },
      run: { command: `${i % 4 === 0 ? 'sleep 0.3; ' : ''}echo "$SDLC_ACTION_ID $SDLC_RUN_ID" >> fired.txt` },
    }));
    fs.writeFileSync(path.join(ws, 'actions.json'), JSON.stringify(specs));
    assert.strictEqual(cliJson<unknown[]>(['apply', '--workspace', ws, '--file', path.join(ws, 'actions.json')]).length, N);

    // 1. 100 SIGKILLs of the owner at random moments.
    let kills = 0;
    while (kills < 100) {
      const child = run(ws);
      const owned = await untilOwner(ws, child);
      if (owned) await sleep(Math.floor(Math.random() * 250));
      child.kill('SIGKILL');
      await exited(child);
      if (owned) kills++;
    }

    // 2. 20 rounds: the owner is killed and two or three orchestrators start at the same moment.
    let contested = 0;
    for (let round = 0; round < 20; round++) {
      const first = run(ws);
      await untilOwner(ws, first);
      first.kill('SIGKILL');
      await exited(first);
      const rivals = Array.from({ length: 2 + (round % 2) }, () => run(ws));
      await sleep(300 + Math.floor(Math.random() * 400));
      contested += rivals.length;
      for (const r of rivals) r.kill('SIGKILL');
      await Promise.all(rivals.map(exited));
    }

    // 3. An owner frozen past its lease (2 s) while another takes over, then resumed.
    const frozen = run(ws);
    assert.ok(await untilOwner(ws, frozen));
    await sleep(200);
    frozen.kill('SIGSTOP');
    const successor = run(ws);
    assert.ok(await untilOwner(ws, successor, 15_000), 'nobody took over from the frozen owner');
    await sleep(500);
    frozen.kill('SIGCONT'); // it must notice and step down, not run anything
    await sleep(1500);
    frozen.kill('SIGKILL');
    successor.kill('SIGTERM');
    await Promise.all([exited(frozen), exited(successor)]);

    // Let the last orchestrator finish everything, then let stray children finish writing.
    const final = spawnSync(process.execPath, [CLI, 'run', '--workspace', ws, '--tick', '50', '--exit-when-idle', '--quiet'], { timeout: 120_000, encoding: 'utf8' });
    assert.strictEqual(final.status, 0, final.stderr);
    await sleep(800);

    const fired = lines(path.join(ws, 'fired.txt')).map((l) => l.split(' '));
    const actionIds = fired.map(([a]) => a);
    const runIds = fired.map(([, r]) => r);
    assert.strictEqual(new Set(runIds).size, runIds.length, 'a run started twice');
    assert.strictEqual(new Set(actionIds).size, actionIds.length, 'a one-shot action ran twice');

    const state = await readFolder(ws, (db) => ({
      actions: db.store.allActions(),
      runs: db.store.allRuns(),
      events: db.store.eventsSince(0, 1_000_000),
    }));
    assert.strictEqual(state.actions.length, N, 'an action was lost');
    const cutOff = assertEachRanOnce(state.actions, state.runs, runIds);
    // The journal was never damaged: no owner found anything to set aside or warn about.
    assert.deepStrictEqual(fs.readdirSync(p.dir).filter((f) => /damaged|corrupt/.test(f)), []);
    assert.deepStrictEqual(state.events.filter((e) => e.type === 'engine.warning').map((e) => e.data.message), []);
    assertSqliteIntegrity(p.db);
    const verify = cli(['verify', '--workspace', ws]);
    assert.strictEqual(verify.code, 0, verify.stdout + verify.stderr);
    const owners = state.events.filter((e) => e.type === 'orchestrator.started');
    const epochs = owners.map((e) => e.data.epoch as number);
    assert.strictEqual(new Set(epochs).size, epochs.length, 'two owners recorded the same epoch');
    console.log(
      `      ${kills} kills, ${contested} rivals in 20 contested takeovers, 1 frozen owner; ${owners.length} ownerships recorded; ` +
        `${fired.length} runs, ${cutOff} cut off (killed, or stopped by Ctrl-C); verify: ${verify.stdout.trim()}`,
    );
  });
});
