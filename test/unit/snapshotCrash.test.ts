// Snapshots written by a worker thread (database.ts, snapshotWorker.ts): the owner's thread
// never exports, commits go on while the worker writes, and a SIGKILL at any moment of a
// snapshot loses nothing that was acknowledged and leaves every file valid.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { readJournal } from '../../src/core/store/journal';
import { sdlcPaths } from '../../src/core/paths';
import { assertSqliteIntegrity, engine, killedDuring, readFolder, sleep, tmpWorkspace, verifyClean, waitFor } from './helpers';

const inWorker = { maxJournalRecords: 20, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: 8, alwaysInWorker: true };

/** The snapshot's own view: its journal_n and whether SQLite finds it sound, read from the file alone. */
async function snapshotFileState(ws: string): Promise<{ journalN: number; names: Set<string> }> {
  const initSqlJs = (await import('sql.js')).default;
  const SQL = await initSqlJs();
  const db = new SQL.Database(fs.readFileSync(sdlcPaths(ws).db));
  try {
    assert.strictEqual(db.exec('PRAGMA integrity_check')[0].values[0][0], 'ok', 'the snapshot file is not a sound database');
    const n = Number(db.exec("SELECT value FROM meta WHERE key = 'journal_n'")[0]?.values[0][0] ?? 0);
    const names = new Set((db.exec('SELECT name FROM actions')[0]?.values ?? []).map((r) => String(r[0])));
    return { journalN: n, names };
  } finally {
    db.close();
  }
}

describe('snapshots written by a worker thread', function () {
  this.timeout(240_000);

  it('go on while commits continue; the journal keeps exactly the records after the snapshot; readers see everything', async () => {
    const ws = tmpWorkspace();
    const o = await engine(ws, { tickMs: 10, snapshotPolicy: inWorker });
    const db = (o as unknown as { db: { snapshotting: boolean } }).db;
    let sawOverlap = 0;
    for (let i = 0; i < 400; i++) {
      const wasSnapshotting = db.snapshotting;
      await o.add({ name: `a-${i}`, trigger: { kind: 'manual' }, run: { command: `echo ${i}` } });
      if (wasSnapshotting) sawOverlap++; // this commit went to the journal while a worker wrote
      if (i % 10 === 9) await sleep(5);
    }
    await waitFor(() => !db.snapshotting, 10_000, 'the last snapshot');
    assert.ok(sawOverlap > 0, 'no commit happened while a worker wrote a snapshot');
    const p = sdlcPaths(ws);
    const snap = await snapshotFileState(ws);
    assert.ok(snap.journalN > 0, 'no worker snapshot replaced the database');
    const records = readJournal(p.journal).records;
    if (records.length) assert.strictEqual(records[0].n, snap.journalN + 1, 'the journal does not start right after the snapshot');
    const names = await readFolder(ws, (r) => {
      assert.strictEqual(r.loadDamage, undefined);
      return r.store.allActions().map((a) => a.name);
    });
    assert.strictEqual(names.length, 400);
    await o.stop();
    // Stopping wrote the last snapshot (in a worker): the file alone holds every action.
    assert.strictEqual((await snapshotFileState(ws)).names.size, 400);
    assert.strictEqual(readJournal(p.journal).records.length, 0);
    assert.deepStrictEqual(fs.readdirSync(path.dirname(p.db)).filter((f) => /\.(tmp|new|old)$/.test(f)), []);
    await verifyClean(ws);
  });

  it('SIGKILL at random moments while a snapshot is written, 60 times: nothing acknowledged is lost, the database valid every time', async () => {
    const ws = tmpWorkspace();
    const host = path.join(__dirname, 'support', 'snapshotHost.js');
    const acknowledged = new Set<string>();
    const phases = { beforeReplace: 0, replacedNotSwitched: 0, afterSwitch: 0 };
    let kills = 0;
    let typical = 60; // ms from a snapshot's start to its journal switch here, learned as it goes
    let tail = 5; // ms from its replacing the database to its journal switch, likewise
    const replacedAt = new Map<string, number>();
    for (let round = 0; kills < 60 && round < 150; round++) {
      let phase: keyof typeof phases = 'beforeReplace';
      // Two rounds in three kill at a random moment of the whole snapshot; the third at a random
      // moment from its replacing the database on, where the journal switches: a machine whose
      // snapshots take longer than the ones before them still has kills there.
      const late = round % 3 === 2;
      const { target, delayMs: delay } = await killedDuring(host, [ws, `r${round}`], {
        start: 'S',
        killAt: 1 + Math.floor(Math.random() * 3), // which snapshot of this run
        after: late ? 'R' : undefined,
        delayMs: () => Math.random() * (late ? tail * 2 + 2 : typical * 1.1),
        onLine: (kind, arg, target, startedAt) => {
          if (kind === 'A') acknowledged.add(arg);
          else if (kind === 'R') {
            replacedAt.set(arg, performance.now());
            if (arg === target) phase = 'replacedNotSwitched';
          } else if (kind === 'D') {
            if (arg === target) phase = 'afterSwitch';
            typical = 0.8 * typical + 0.2 * (performance.now() - startedAt.get(arg)!);
            if (replacedAt.has(arg)) tail = 0.8 * tail + 0.2 * (performance.now() - replacedAt.get(arg)!);
          }
        },
      });
      if (!target) continue; // killed before its snapshot began
      kills++;
      phases[phase]++;

      // The snapshot file alone is a sound database; with the journal, nothing is missing.
      const snap = await snapshotFileState(ws);
      // Every name, read with SQL (the store's listing stops at 10,000 and the test passes that).
      const state = await readFolder(ws, (r) => ({ damage: r.loadDamage, names: new Set((r.store.db.exec('SELECT name FROM actions')[0]?.values ?? []).map((v) => String(v[0]))) }));
      assert.strictEqual(state.damage, undefined, `the journal was damaged by a kill ${delay.toFixed(0)} ms into a snapshot`);
      for (const name of acknowledged) assert.ok(state.names.has(name), `"${name}" was acknowledged and is lost (kill ${delay.toFixed(0)} ms into a snapshot)`);
      assert.ok(snap.names.size <= state.names.size);
    }
    assert.ok(kills >= 50, `only ${kills} kills landed after a snapshot began`);
    assertSqliteIntegrity(sdlcPaths(ws).db);
    // The next owner removes what the killed ones left half-written.
    const o = await engine(ws);
    const dir = path.dirname(sdlcPaths(ws).db);
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => /\.(tmp|new|old)$/.test(f)), []);
    assert.ok(Number(o.store.db.exec('SELECT count(*) FROM actions')[0].values[0][0]) >= acknowledged.size);
    await o.stop();
    await verifyClean(ws);
    assert.ok(phases.beforeReplace > 0 && phases.replacedNotSwitched + phases.afterSwitch > 0, `the kills did not spread over the snapshot: ${JSON.stringify(phases)}`);
    console.log(
      `      ${kills} kills after a snapshot began (typically ${typical.toFixed(0)} ms to the journal switch, ${tail.toFixed(0)} from the replace): ${phases.beforeReplace} before it replaced the database, ` +
        `${phases.replacedNotSwitched} between that and the journal switch, ${phases.afterSwitch} after; ${acknowledged.size} adds acknowledged, none lost`,
    );
  });
});
