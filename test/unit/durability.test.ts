// What is on disk: the journal, torn writes, a corrupted database, snapshots, catch-up after downtime.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { sdlcPaths } from '../../src/core/paths';
import { loadSqlJs } from '../../src/core/store/sqljs';
import { cli, cliJson, engine, readFolder, sleep, tmpWorkspace, waitFor } from './helpers';

const add = (ws: string, name: string) => cliJson<{ id: string }>(['add', '--workspace', ws, '--name', name, '--manual', '--run', 'true']);

describe('durability', function () {
  this.timeout(30_000);

  it('makes each change durable with one journal line, and keeps the database a valid SQLite file', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    add(ws, 'one');
    add(ws, 'two');
    const journal = fs.readFileSync(p.journal, 'utf8').split('\n').filter(Boolean);
    assert.strictEqual(journal.length, 2, 'one record per add');
    assert.match(fs.readFileSync(p.db).subarray(0, 16).toString('latin1'), /^SQLite format 3\0/);
    assert.match(fs.readFileSync(path.join(p.dir, '.gitignore'), 'utf8'), /^\*$/m);
    assert.deepStrictEqual(cliJson<{ name: string }[]>(['list', '--workspace', ws]).map((a) => a.name).sort(), ['one', 'two']);
  });

  it('ignores a torn last journal record and loses nothing acknowledged before it', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    add(ws, 'kept-1');
    add(ws, 'kept-2');
    add(ws, 'torn');
    const text = fs.readFileSync(p.journal, 'utf8');
    const lastStart = text.lastIndexOf('\n', text.length - 2) + 1;
    // A crash in the middle of writing the third record: half of it reached the disk.
    fs.writeFileSync(p.journal, text.slice(0, lastStart + Math.floor((text.length - lastStart) / 2)));
    assert.deepStrictEqual(cliJson<{ name: string }[]>(['list', '--workspace', ws]).map((a) => a.name).sort(), ['kept-1', 'kept-2']);
    // The owner cuts the torn tail off and appends after the good records.
    add(ws, 'after');
    assert.deepStrictEqual(cliJson<{ name: string }[]>(['list', '--workspace', ws]).map((a) => a.name).sort(), ['after', 'kept-1', 'kept-2']);
  });

  it('keeps the good records before a damaged one, saves the damaged journal aside and says so', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    add(ws, 'a');
    add(ws, 'b');
    add(ws, 'c');
    const recs = fs.readFileSync(p.journal, 'utf8').split('\n');
    recs[1] = recs[1].replace('"b"', '"B"'); // a flipped byte in the middle record: its checksum fails
    fs.writeFileSync(p.journal, recs.join('\n'));
    const o = await engine(ws);
    try {
      assert.ok(o.warnings.some((w) => /journal .* is damaged \(after record 1, at byte \d+\).*saved the whole journal to/.test(w)), o.warnings.join('\n'));
      assert.deepStrictEqual(o.listActions().map((a) => a.name), ['a']);
      assert.strictEqual(fs.readdirSync(p.dir).filter((f) => f.startsWith('orchestrator.journal.damaged-')).length, 1);
    } finally {
      await o.stop();
    }
  });

  it('after a gap in the journal, keeps what came before it and records new changes where they will be read', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    for (const name of ['a', 'b', 'c', 'd']) add(ws, name);
    const recs = fs.readFileSync(p.journal, 'utf8').split('\n');
    recs.splice(2, 1); // record 3 is missing: 'd' cannot be applied without it
    fs.writeFileSync(p.journal, recs.join('\n'));
    // A one-off CLI change: it exits without a snapshot, so its record must be readable after the gap.
    const r = cli(['add', '--workspace', ws, '--name', 'new', '--manual', '--run', 'true']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /journal .* is damaged \(record 3 is missing; record 4 follows record 2\).*saved the whole journal to/);
    const names = await readFolder(ws, (db) => db.store.activeActions().map((a) => a.name).sort());
    assert.deepStrictEqual(names, ['a', 'b', 'new']);
  });

  it('moves a corrupted database aside with a clear message and never overwrites it', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    add(ws, 'precious');
    await (await engine(ws)).stop(); // snapshot: the action is in the .db file now
    const garbage = Buffer.concat([Buffer.from('this is not a database'), fs.readFileSync(p.db).subarray(100, 4000)]);
    fs.writeFileSync(p.db, garbage);

    // Readers refuse, say what is wrong and what to do, and touch nothing.
    const list = cli(['list', '--workspace', ws]);
    assert.strictEqual(list.code, 2);
    assert.match(list.stderr, /orchestrator\.db cannot be read .*move it aside/);
    assert.deepStrictEqual(fs.readFileSync(p.db), garbage);

    // The owner moves it aside, keeps it byte for byte, says where, and starts afresh.
    const o = await engine(ws);
    try {
      const aside = fs.readdirSync(p.dir).filter((f) => f.startsWith('orchestrator.db.corrupt-') && !f.endsWith('.journal'));
      assert.strictEqual(aside.length, 1);
      assert.deepStrictEqual(fs.readFileSync(path.join(p.dir, aside[0])), garbage);
      assert.ok(o.warnings.some((w) => w.includes(aside[0]) && /could not be read/.test(w)), o.warnings.join('\n'));
      assert.deepStrictEqual(o.listActions(), []);
    } finally {
      await o.stop();
    }
    assert.match(fs.readFileSync(p.db).subarray(0, 16).toString('latin1'), /^SQLite format 3/);
  });

  it('refuses a database from a newer version with a clear message, changes nothing and leaves the folder free', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    add(ws, 'keep');
    await (await engine(ws)).stop();
    const SQL = await loadSqlJs();
    const db = new SQL.Database(fs.readFileSync(p.db));
    db.run("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    fs.writeFileSync(p.db, db.export());
    db.close();
    const before = fs.readFileSync(p.db);
    const r = cli(['add', '--workspace', ws, '--name', 'x', '--manual', '--run', 'true']);
    assert.notStrictEqual(r.code, 0);
    assert.match(r.stderr, /schema version 99, newer than this program's \d+; update the extension or CLI/);
    assert.deepStrictEqual(fs.readFileSync(p.db), before);
    assert.ok(!fs.existsSync(p.lease), 'the lease was left held');
  });

  it('snapshots when idle, so the .db file alone holds the current state', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    const o = await engine(ws, { snapshotPolicy: { maxJournalRecords: 5000, maxJournalBytes: 8 << 20, idleMs: 200, cheapExportMs: 25 } });
    try {
      await o.add({ name: 'x', trigger: { kind: 'manual' }, run: { command: 'true' } });
      assert.ok(fs.statSync(p.journal).size > 0);
      await waitFor(() => fs.statSync(p.journal).size === 0, 3000, 'an idle snapshot');
      fs.rmSync(p.journal); // the .db file alone must be enough
      const names = await readFolder(ws, (db) => db.store.activeActions().map((a) => a.name));
      assert.deepStrictEqual(names, ['x']);
    } finally {
      await o.stop();
    }
  });

  it('after downtime, missed recurring runs follow their catch-up policy', async () => {
    const ws = tmpWorkspace();
    let now = Date.parse('2026-03-01T10:00:00Z');
    const clock = { now: () => now };
    const o1 = await engine(ws, { clock });
    const every = { kind: 'every' as const, every: '1m' };
    const cmd = { command: 'echo "$SDLC_ACTION_NAME" >> runs.txt' };
    await o1.add([
      { name: 'skip', trigger: every, run: cmd, policy: { catchUp: 'skip' } },
      { name: 'once', trigger: every, run: cmd, policy: { catchUp: 'once' } },
      { name: 'all', trigger: every, run: cmd, policy: { catchUp: 'all', catchUpLimit: 3 } },
    ]);
    await o1.stop();
    now += 10 * 60_000 + 30_000; // nothing ran for ten and a half minutes
    const o2 = await engine(ws, { clock });
    try {
      await waitFor(() => o2.history(100).length >= 4, 8000, 'catch-up runs');
      await sleep(500);
      const count = (name: string) => o2.history(100).filter((r) => r.name === name).length;
      assert.strictEqual(count('skip'), 0);
      assert.strictEqual(count('once'), 1);
      assert.strictEqual(count('all'), 3);
      const skipped = o2.eventsSince(0).filter((e) => e.type === 'task.skipped');
      assert.ok(skipped.some((e) => (e.data as { missed: number }).missed === 10 && /catch-up: skip/.test(String(e.data.reason))));
      // Each is scheduled again at its next occurrence after now.
      for (const a of o2.listActions()) assert.ok(a.dueAt! > now && a.dueAt! <= now + 60_000, `${a.name} due ${a.dueAt}`);
    } finally {
      await o2.stop();
    }
  });
});
