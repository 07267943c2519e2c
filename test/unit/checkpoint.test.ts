// Checkpoints (checkpoint.ts): a worker writes the snapshot's blocks as the journal's first
// records left them, and a load lays them over the snapshot instead of replaying those
// records. The database must be exactly the one a replay of the whole journal gives; a
// checkpoint that is damaged or made on another snapshot is passed over; and a SIGKILL at any
// moment of writing one loses nothing and leaves every file valid.
import * as assert from 'assert';
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Database } from 'sql.js';
import type { Orchestrator } from '../../src/core/orchestrator';
import { silentLogger } from '../../src/core/log';
import { sdlcPaths } from '../../src/core/paths';
import type { DurableDatabase, SnapshotPolicy } from '../../src/core/store/database';
import { assertSqliteIntegrity, engine, exited, killedDuring, readFolder, sleep, tmpWorkspace, verifyClean } from './helpers';

const frequent: SnapshotPolicy = { maxJournalRecords: 1e9, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: 8, alwaysInWorker: true, checkpointRecords: 20 };

/** Every row of every table, in storage order: two loads of one folder must agree on all of it. */
function dump(db: Database): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const tables = (db.exec("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values ?? []) as [string, string][];
  for (const [name, sql] of tables) out[name] = db.exec(`SELECT * FROM "${name}"${/WITHOUT ROWID/i.test(sql) ? '' : ' ORDER BY rowid'}`)[0]?.values ?? [];
  return out;
}

/** The folder as a reader loads it, with the checkpoint if it applies, and with the checkpoint file set aside. */
async function bothWays(ws: string): Promise<{ withIt: { checkpoint: number | undefined; journalN: number; damage?: string; rows: Record<string, unknown> }; without: Record<string, unknown> }> {
  const read = (r: DurableDatabase) => ({ checkpoint: r.loadedCheckpoint, journalN: Number(r.store.getMeta('journal_n')), damage: r.loadDamage, rows: dump(r.store.db) });
  const withIt = await readFolder(ws, read);
  const file = sdlcPaths(ws).checkpoint;
  const aside = `${file}.aside`;
  const had = fs.existsSync(file);
  if (had) fs.renameSync(file, aside);
  try {
    const without = await readFolder(ws, read);
    assert.strictEqual(without.checkpoint, undefined);
    return { withIt, without: without.rows };
  } finally {
    if (had) fs.renameSync(aside, file);
  }
}

/** Adds actions (pausing every other one), with turns of the event loop for the workers' replies. */
async function churn(o: Orchestrator, prefix: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const { actions } = await o.add({ name: `${prefix}-${i}`, trigger: { kind: 'manual' }, run: { command: `echo ${i}` } });
    if (i % 2) await o.pauseAction(actions[0].id);
    if (i % 5 === 4) await sleep(2);
  }
}

async function waitForCheckpoint(ws: string, atLeast: number): Promise<number> {
  const until = Date.now() + 20_000;
  for (;;) {
    const n = await readFolder(ws, (r) => r.loadedCheckpoint);
    if (n !== undefined && n >= atLeast) return n;
    if (Date.now() > until) throw new Error(`no checkpoint of record ${atLeast} or later was written (last: ${n})`);
    await sleep(50);
  }
}

describe('checkpoints', function () {
  this.timeout(240_000);

  it('a load lays the checkpoint over the snapshot and replays only the records after it: the same database as replaying the whole journal', async () => {
    const ws = tmpWorkspace();
    const o = await engine(ws, { tickMs: 10, snapshotPolicy: frequent });
    await churn(o, 'a', 120);
    await waitForCheckpoint(ws, 100);
    await churn(o, 'b', 10); // records after it, only in the journal
    const { withIt, without } = await bothWays(ws);
    assert.ok(withIt.checkpoint !== undefined && withIt.checkpoint >= 100);
    assert.ok(withIt.journalN > withIt.checkpoint, 'nothing was replayed after the checkpoint');
    assert.strictEqual(withIt.damage, undefined);
    assert.deepStrictEqual(withIt.rows, without);
    assert.strictEqual((withIt.rows.actions as unknown[]).length, 130);

    // Stopping writes a snapshot: the checkpoint no longer applies, and is removed.
    const p = sdlcPaths(ws);
    const kept = fs.readFileSync(p.checkpoint);
    await o.stop();
    assert.ok(!fs.existsSync(p.checkpoint), 'the checkpoint of a replaced snapshot was left behind');
    // Put back (a crash right after the snapshot): made on another snapshot, it is passed over, silently.
    fs.writeFileSync(p.checkpoint, kept);
    const after = await bothWays(ws);
    assert.strictEqual(after.withIt.checkpoint, undefined);
    assert.deepStrictEqual(after.withIt.rows, after.without);
    const infos: string[] = [];
    const again = await engine(ws, { log: { ...silentLogger, info: (m: string) => void infos.push(m) } });
    assert.strictEqual(again.store.db.exec('SELECT count(*) FROM actions')[0].values[0][0], 130);
    assert.deepStrictEqual(infos.filter((m) => /checkpoint/.test(m)), [], 'a checkpoint of an earlier snapshot is the normal case, not news');
    await again.stop();
    await verifyClean(ws);
  });

  it('a damaged checkpoint is passed over, said in the log, and the journal replayed: nothing is lost', async () => {
    const ws = tmpWorkspace();
    const host = path.join(__dirname, 'support', 'checkpointHost.js');
    const child: ChildProcess = spawn(process.execPath, [host, ws, 'd'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acknowledged: string[] = [];
    let buffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      for (let nl; (nl = buffer.indexOf('\n')) >= 0; buffer = buffer.slice(nl + 1)) {
        const line = buffer.slice(0, nl);
        if (line.startsWith('A ')) acknowledged.push(line.slice(2));
      }
    });
    await waitForCheckpoint(ws, 30);
    child.kill('SIGKILL');
    await exited(child);
    const p = sdlcPaths(ws);
    const before = await bothWays(ws);
    assert.ok(before.withIt.checkpoint !== undefined, 'the kill left no checkpoint that applies');
    assert.deepStrictEqual(before.withIt.rows, before.without);
    // One byte changed in a block: the checksum no longer matches.
    const bytes = fs.readFileSync(p.checkpoint);
    bytes[bytes.length - 100] ^= 0xff;
    fs.writeFileSync(p.checkpoint, bytes);
    const damaged = await bothWays(ws);
    assert.strictEqual(damaged.withIt.checkpoint, undefined);
    assert.deepStrictEqual(damaged.withIt.rows, before.without);
    const infos: string[] = [];
    const o = await engine(ws, { log: { ...silentLogger, info: (m: string) => void infos.push(m) } });
    assert.ok(infos.some((m) => /checkpoint orchestrator\.checkpoint was passed over: it is damaged \(its checksum does not match\); the journal is replayed instead/.test(m)), infos.join('\n'));
    const names = new Set((o.store.db.exec('SELECT name FROM actions')[0]?.values ?? []).map((r) => String(r[0])));
    for (const name of acknowledged) assert.ok(names.has(name), `"${name}" was acknowledged and is lost`);
    await o.stop();
    await verifyClean(ws);
  });

  it('SIGKILL at random moments while a checkpoint is written, 50 times: nothing acknowledged is lost, every load equals the whole replay', async function () {
    this.timeout(480_000); // a checkpoint's worker takes only the CPU left over: slow on a busy machine
    const ws = tmpWorkspace();
    const host = path.join(__dirname, 'support', 'checkpointHost.js');
    const acknowledged = new Set<string>();
    const phases = { writing: 0, written: 0 };
    let kills = 0;
    let usedCheckpoint = 0;
    let typical = 40; // ms from a checkpoint's start to its rename here, learned as it goes
    for (let round = 0; kills < 50 && round < 150; round++) {
      let phase: keyof typeof phases = 'writing';
      // Two rounds in three kill at a random moment of the whole checkpoint; the third within
      // 20 ms of its rename, so a machine slower than what was learned still has kills after it.
      const late = round % 3 === 2;
      const { target, delayMs: delay } = await killedDuring(host, [ws, `r${round}`], {
        start: 'C',
        killAt: 1 + Math.floor(Math.random() * 3), // which checkpoint of this run
        after: late ? 'K' : undefined,
        delayMs: () => Math.random() * (late ? 20 : typical * 1.2),
        onLine: (kind, arg, target, startedAt) => {
          if (kind === 'A') acknowledged.add(arg);
          else if (kind === 'K') {
            if (arg === target) phase = 'written';
            if (startedAt.has(arg)) typical = 0.8 * typical + 0.2 * (performance.now() - startedAt.get(arg)!);
          }
        },
      });
      if (!target) continue; // killed before its checkpoint began
      kills++;
      phases[phase]++;

      const { withIt, without } = await bothWays(ws);
      assert.strictEqual(withIt.damage, undefined, `the journal was damaged by a kill ${delay.toFixed(0)} ms into a checkpoint`);
      assert.deepStrictEqual(withIt.rows, without, `a load with the checkpoint differs from the whole replay (kill ${delay.toFixed(0)} ms into checkpoint ${target})`);
      if (withIt.checkpoint !== undefined) usedCheckpoint++;
      const names = new Set((withIt.rows.actions as unknown[][]).map((r) => String(r[1])));
      for (const name of acknowledged) assert.ok(names.has(name), `"${name}" was acknowledged and is lost (kill ${delay.toFixed(0)} ms into a checkpoint)`);
    }
    assert.ok(kills >= 50, `only ${kills} kills landed after a checkpoint began`);
    assert.ok(usedCheckpoint >= 10, `only ${usedCheckpoint} of ${kills} loads after a kill had a checkpoint to lay over`);
    assertSqliteIntegrity(sdlcPaths(ws).db);
    // The next owner removes what the killed ones left half-written, and starts from the checkpoint.
    const o = await engine(ws);
    const dir = path.dirname(sdlcPaths(ws).db);
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => /\.(tmp|new|old)$/.test(f)), []);
    assert.ok(Number(o.store.db.exec('SELECT count(*) FROM actions')[0].values[0][0]) >= acknowledged.size);
    await o.stop();
    await verifyClean(ws);
    assert.ok(phases.writing > 0 && phases.written > 0, `the kills did not spread over the checkpoint: ${JSON.stringify(phases)}`);
    console.log(
      `      ${kills} kills after a checkpoint began (typically ${typical.toFixed(0)} ms to its rename): ${phases.writing} while it was written, ` +
        `${phases.written} after; ${usedCheckpoint} loads laid a checkpoint over; ${acknowledged.size} adds acknowledged, none lost`,
    );
  });
});
