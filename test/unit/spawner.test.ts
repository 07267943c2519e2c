import * as assert from 'assert';
import { Spawner, type SpawnWatch } from '../../src/core/spawner/spawner';

/** What one run's watch heard, in order. */
interface Heard {
  events: string[];
  pid?: number;
  done: Promise<void>;
}

function watchOne(): { watch: SpawnWatch; heard: Heard } {
  let end!: () => void;
  const heard: Heard = { events: [], done: new Promise((r) => (end = r)) };
  const watch: SpawnWatch = {
    spawned: (pid) => {
      heard.pid = pid;
      heard.events.push('spawned');
    },
    exit: (code, signal) => {
      heard.events.push(`exit ${code} ${signal}`);
      end();
    },
    error: (message) => {
      heard.events.push(`error ${message}`);
      end();
    },
    lost: () => {
      heard.events.push('lost');
      end();
    },
  };
  return { watch, heard };
}

const sh = (script: string) => ({ file: '/bin/sh', args: ['-c', script], env: {} });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

(process.platform === 'win32' ? describe.skip : describe)('the spawner processes (a second joins in a burst)', () => {
  const spawners: Spawner[] = [];
  const fresh = (idleMs = 60_000) => {
    const s = new Spawner({ maxHelpers: 2, busySpawns: 2, idleMs });
    spawners.push(s);
    return s;
  };
  afterEach(() => {
    for (const s of spawners.splice(0)) for (const pid of s.pids) process.kill(pid, 'SIGKILL');
  });

  it('starts a second spawner while the first has spawns waiting, and every run is told its own end once', async () => {
    const s = fresh();
    const runs = Array.from({ length: 60 }, (_, i) => {
      const { watch, heard } = watchOne();
      assert.strictEqual(s.spawn(sh(`exit ${i % 7}`), watch), true);
      return heard;
    });
    const most = s.pids.length;
    await Promise.all(runs.map((r) => r.done));
    assert.strictEqual(most, 2, 'a burst of 60 spawns asked for at once brings in the second spawner');
    runs.forEach((r, i) => assert.deepStrictEqual(r.events, ['spawned', `exit ${i % 7} null`], `run ${i}`));
    assert.strictEqual(new Set(runs.map((r) => r.pid)).size, runs.length, 'each run is its own process');
  });

  it('starts one spawner for runs asked for one at a time, and an extra one leaves once idle', async () => {
    const s = fresh(300);
    for (let i = 0; i < 5; i++) {
      const { watch, heard } = watchOne();
      s.spawn(sh('true'), watch);
      await heard.done;
    }
    assert.strictEqual(s.pids.length, 1, 'no burst, no second spawner');
    const first = s.pids[0];
    const burst = Array.from({ length: 20 }, () => {
      const { watch, heard } = watchOne();
      s.spawn(sh('true'), watch);
      return heard;
    });
    assert.strictEqual(s.pids.length, 2);
    const extra = s.pids[1];
    await Promise.all(burst.map((r) => r.done));
    await sleep(1200);
    assert.deepStrictEqual(s.pids, [first], 'the extra spawner retired; the first stays');
    assert.throws(() => process.kill(extra, 0), /ESRCH/, 'the retired spawner has exited');
    const { watch, heard } = watchOne();
    s.spawn(sh('exit 3'), watch);
    await heard.done;
    assert.deepStrictEqual(heard.events, ['spawned', 'exit 3 null'], 'the first spawner still spawns');
  });

  it("a spawner that dies loses only its own runs; the other's are told their ends", async () => {
    const s = fresh();
    const runs = Array.from({ length: 20 }, () => {
      const { watch, heard } = watchOne();
      s.spawn(sh('sleep 1'), watch);
      return heard;
    });
    const [, victim] = s.pids;
    assert.ok(victim, 'two spawners');
    await sleep(500); // every run spawned
    assert.ok(runs.every((r) => r.pid !== undefined));
    process.kill(victim, 'SIGKILL');
    await Promise.all(runs.map((r) => r.done));
    const lost = runs.filter((r) => r.events.join() === 'spawned,lost').length;
    const ended = runs.filter((r) => r.events.join() === 'spawned,exit 0 null').length;
    assert.ok(lost > 0 && ended > 0, `both spawners had runs: ${lost} lost, ${ended} ended`);
    assert.strictEqual(lost + ended, runs.length, 'each run heard exactly one end');
    assert.strictEqual(s.pids.length, 1);
    const { watch, heard } = watchOne();
    s.spawn(sh('true'), watch);
    await heard.done;
    assert.deepStrictEqual(heard.events, ['spawned', 'exit 0 null'], 'spawning goes on');
  });
});
