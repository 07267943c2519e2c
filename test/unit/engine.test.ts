// The engine in one process: real sql.js, real files, real child processes.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { LifecycleEvent } from '../../src/core/model';
import type { Orchestrator } from '../../src/core/orchestrator';
import { engine, lines, sleep, tmpWorkspace, verifyClean, waitFor } from './helpers';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('engine', function () {
  this.timeout(30_000);
  let ws: string;
  let o: Orchestrator | undefined;
  beforeEach(() => {
    ws = tmpWorkspace();
  });
  afterEach(async () => {
    await o?.stop();
    o = undefined;
  });

  const finished = (o: Orchestrator, n: number) => () => o.history(1000).length >= n;

  it('fires two actions due 100 ms apart, in order, each within a few ms of its due time (tick 500 ms)', async () => {
    o = await engine(ws, { tickMs: 500 });
    const t0 = Date.now() + 700;
    await o.add([
      { name: 'first', trigger: { kind: 'at', at: new Date(t0).toISOString() }, run: { command: 'echo first >> order.txt' } },
      { name: 'second', trigger: { kind: 'at', at: new Date(t0 + 100).toISOString() }, run: { command: 'echo second >> order.txt' } },
    ]);
    await waitFor(finished(o, 2), 5000, 'both runs');
    const runs = o.history(10).reverse();
    assert.deepStrictEqual(runs.map((r) => r.name), ['first', 'second']);
    assert.deepStrictEqual(lines(path.join(ws, 'order.txt')), ['first', 'second']);
    for (const r of runs) {
      const late = r.startedAt - r.scheduledFor!;
      assert.ok(late >= 0 && late <= 15, `${r.name} started ${late} ms after its due time`);
      assert.strictEqual(r.status, 'succeeded');
    }
  });

  it('claims a burst of due actions in one tick: one journal record, one fsync, before any of them runs', async () => {
    o = await engine(ws, { maxConcurrent: 100 });
    const journal = path.join(ws, '.sdlc', 'orchestrator.journal');
    const at = new Date(Date.now() + 400).toISOString();
    await o.add(Array.from({ length: 50 }, (_, i) => ({ name: `b${i}`, trigger: { kind: 'at' as const, at }, run: { command: 'sleep 1' } })));
    const recordsBefore = lines(journal).length;
    await waitFor(() => o!.listActions().filter((a) => a.status === 'running').length === 50, 5000, 'all fifty running');
    assert.strictEqual(lines(journal).length - recordsBefore, 1, 'the claim took more than one journal record');
    const started = o.eventsSince(0).filter((e) => e.type === 'task.started');
    assert.strictEqual(new Set(started.map((e) => e.ts)).size, 1, 'all were marked running in the same tick');
  });

  it('retries a failing run with exponential backoff, then gives up with the reason', async () => {
    o = await engine(ws);
    const { actions } = await o.add({ name: 'flaky', trigger: { kind: 'delay', delay: '10ms' }, run: { command: 'exit 3' }, policy: { maxAttempts: 3, backoff: '150ms' } });
    await waitFor(() => o!.getAction(actions[0].id)!.status === 'failed', 5000, 'final failure');
    const runs = o.history(10).reverse();
    assert.deepStrictEqual(runs.map((r) => [r.attempt, r.status, r.exitCode]), [[1, 'failed', 3], [2, 'failed', 3], [3, 'failed', 3]]);
    const gap1 = runs[1].startedAt - runs[0].endedAt!;
    const gap2 = runs[2].startedAt - runs[1].endedAt!;
    assert.ok(gap1 >= 150 && gap1 < 400, `first backoff ${gap1} ms`);
    assert.ok(gap2 >= 300 && gap2 < 600, `second backoff ${gap2} ms (doubled)`);
    assert.strictEqual(o.getAction(actions[0].id)!.reason, 'exit code 3');
    const types = o.eventsSince(0).filter((e) => e.actionId === actions[0].id).map((e) => e.type);
    assert.deepStrictEqual(types.filter((t) => t === 'task.retried').length, 2);
  });

  it('a retry that succeeds ends the action succeeded', async () => {
    o = await engine(ws);
    const { actions } = await o.add({
      name: 'second time lucky',
      trigger: { kind: 'delay', delay: '10ms' },
      run: { command: 'if [ -f tried ]; then exit 0; else touch tried; exit 1; fi' },
      policy: { maxAttempts: 3, backoff: '50ms' },
    });
    await waitFor(() => o!.getAction(actions[0].id)!.status === 'succeeded', 5000, 'success');
    assert.deepStrictEqual(o.history(10).reverse().map((r) => r.status), ['failed', 'succeeded']);
  });

  it('a timeout kills the whole process tree and fails the run', async () => {
    o = await engine(ws);
    await o.add({
      name: 'hangs',
      trigger: { kind: 'delay', delay: '10ms' },
      run: { command: 'sleep 30 & echo $! > grandchild.pid; echo $$ > shell.pid; wait' },
      policy: { timeout: '400ms' },
    });
    await waitFor(finished(o, 1), 5000, 'the timeout');
    const [run] = o.history(1);
    assert.strictEqual(run.status, 'failed');
    assert.match(run.reason!, /timed out after 400ms/);
    assert.ok(run.endedAt! - run.startedAt >= 400 && run.endedAt! - run.startedAt < 1000);
    const grandchild = Number(fs.readFileSync(path.join(ws, 'grandchild.pid'), 'utf8'));
    const shell = Number(fs.readFileSync(path.join(ws, 'shell.pid'), 'utf8'));
    await waitFor(() => !processAlive(grandchild) && !processAlive(shell), 4000, 'the process tree to end');
  });

  it('cancel stops the run in flight and its tree, and records it cancelled', async () => {
    o = await engine(ws);
    const { actions } = await o.add({ name: 'long', trigger: { kind: 'delay', delay: '10ms' }, run: { command: 'sleep 30 & echo $! > gc.pid; wait' } });
    await waitFor(() => fs.existsSync(path.join(ws, 'gc.pid')), 5000, 'the run to start');
    await o.cancel(actions[0].id);
    const a = o.getAction(actions[0].id)!;
    assert.strictEqual(a.status, 'cancelled');
    assert.strictEqual(o.history(1)[0].status, 'cancelled');
    const gc = Number(fs.readFileSync(path.join(ws, 'gc.pid'), 'utf8'));
    await waitFor(() => !processAlive(gc), 4000, 'the grandchild to end');
    await assert.rejects(o.cancel(actions[0].id), /already cancelled/);
  });

  it('runs dependents after their upstream succeeds, in order, and cancels them down the chain when it fails', async () => {
    o = await engine(ws);
    const { actions } = await o.add([
      { name: 'build', trigger: { kind: 'delay', delay: '50ms' }, run: { command: 'echo build >> chain.txt' } },
      { name: 'test', trigger: { kind: 'after', after: 'build' }, run: { command: 'echo test >> chain.txt' } },
      { name: 'deploy', trigger: { kind: 'after', after: 'test' }, run: { command: 'echo deploy >> chain.txt' } },
    ]);
    await waitFor(() => o!.getAction(actions[2].id)!.status === 'succeeded', 5000, 'the chain');
    assert.deepStrictEqual(lines(path.join(ws, 'chain.txt')), ['build', 'test', 'deploy']);
    assert.strictEqual(o.history(10)[0].cause.startsWith('after:'), true);

    const failing = await o.add([
      { name: 'build2', trigger: { kind: 'delay', delay: '50ms' }, run: { command: 'exit 1' } },
      { name: 'test2', trigger: { kind: 'after', after: 'build2' }, run: { command: 'echo never >> never.txt' } },
      { name: 'deploy2', trigger: { kind: 'after', after: 'test2' }, run: { command: 'echo never >> never.txt' } },
    ]);
    await waitFor(() => o!.getAction(failing.actions[2].id)!.status === 'cancelled', 5000, 'the cascade');
    assert.match(o.getAction(failing.actions[1].id)!.reason!, /upstream "build2" failed/);
    assert.match(o.getAction(failing.actions[2].id)!.reason!, /upstream "test2" cancelled/);
    assert.ok(!fs.existsSync(path.join(ws, 'never.txt')));
  });

  it('refuses a dependency cycle, naming it, and stores nothing', async () => {
    o = await engine(ws);
    const before = o.eventsSince(0).length;
    await assert.rejects(
      o.add([
        { name: 'a', trigger: { kind: 'after', after: 'c' }, run: { command: 'true' } },
        { name: 'b', trigger: { kind: 'after', after: 'a' }, run: { command: 'true' } },
        { name: 'c', trigger: { kind: 'after', after: 'b' }, run: { command: 'true' } },
      ]),
      /dependency cycle: \w → \w → \w → \w/,
    );
    assert.strictEqual(o.listActions().length, 0);
    assert.strictEqual(o.eventsSince(0).length, before);
  });

  it('an idempotency key gives one action however often it is scheduled', async () => {
    o = await engine(ws);
    const input = { name: 'nightly', trigger: { kind: 'cron' as const, cron: '0 3 * * *' }, run: { command: 'true' }, idempotencyKey: 'nightly-backup' };
    const first = await o.add(input);
    const second = await o.add({ ...input, name: 'renamed' });
    assert.strictEqual(first.created[0], true);
    assert.strictEqual(second.created[0], false);
    assert.strictEqual(second.actions[0].id, first.actions[0].id);
    assert.strictEqual(o.listActions().length, 1);
  });

  it('run now queues a run of a manual action; pause holds an action and resume releases it', async () => {
    o = await engine(ws);
    const { actions } = await o.add({ name: 'by hand', trigger: { kind: 'manual' }, run: { command: 'echo ran >> manual.txt' } });
    assert.strictEqual(o.getAction(actions[0].id)!.status, 'waiting');
    await o.runNow('by hand');
    await waitFor(finished(o, 1), 5000, 'the manual run');
    assert.strictEqual(o.getAction(actions[0].id)!.status, 'waiting');
    await o.pauseAction(actions[0].id);
    await assert.rejects(o.runNow(actions[0].id), /paused; resume it first/);
    await o.resumeAction(actions[0].id);
    await o.runNow(actions[0].id);
    await waitFor(finished(o, 2), 5000, 'the second manual run');
    assert.deepStrictEqual(lines(path.join(ws, 'manual.txt')), ['ran', 'ran']);
  });

  it('pushes every committed event to subscribers, in seq order, with no gaps', async () => {
    o = await engine(ws);
    const seen: LifecycleEvent[] = [];
    o.onEvents((events) => seen.push(...events));
    await o.add({ name: 'hi', trigger: { kind: 'delay', delay: '20ms' }, run: { command: 'true' } });
    await waitFor(finished(o, 1), 5000, 'the run');
    await waitFor(() => seen.some((e) => e.type === 'task.completed'), 2000, 'the completed event');
    const seqs = seen.map((e) => e.seq);
    assert.deepStrictEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.deepStrictEqual(seen.map((e) => e.seq), o.eventsSince(seqs[0] - 1).map((e) => e.seq));
    assert.deepStrictEqual(
      seen.filter((e) => e.actionId).map((e) => e.type),
      ['task.accepted', 'task.started', 'task.completed'],
    );
  });

  it('pauses the whole orchestrator: nothing is claimed until it resumes', async () => {
    o = await engine(ws);
    await o.pause();
    await o.add({ name: 'held', trigger: { kind: 'delay', delay: '10ms' }, run: { command: 'true' } });
    await sleep(400);
    assert.strictEqual(o.history().length, 0);
    await o.resume();
    await waitFor(finished(o, 1), 3000, 'the run after resume');
  });

  it('prunes finished history beyond the retention count', async () => {
    o = await engine(ws, { retention: { maxRuns: 5 }, pruneEveryMs: 100 });
    await o.add(Array.from({ length: 12 }, (_, i) => ({ name: `r${i}`, trigger: { kind: 'delay' as const, delay: `${10 + i}ms` }, run: { command: 'true' } })));
    await waitFor(() => o!.eventsSince(0).filter((e) => e.type === 'task.completed').length === 12, 8000, 'all runs');
    await waitFor(() => o!.history(100).length === 5, 3000, 'pruning');
    assert.ok(o.eventsSince(0).some((e) => e.type === 'history.pruned'));
  });

  it('retention looks past the newest runs only when there can be more than it keeps', async () => {
    o = await engine(ws, { retention: { maxRuns: 5 }, pruneEveryMs: 50 });
    await o.add(Array.from({ length: 4 }, (_, i) => ({ name: `few${i}`, trigger: { kind: 'delay' as const, delay: `${10 + i}ms` }, run: { command: 'true' } })));
    await waitFor(() => o!.history(100).length === 4 && o!.history(100).every((r) => r.status === 'succeeded'), 8000, 'four runs');
    // The rowid span bounds the count from above: 4 rows, no more than 5, so nothing is looked for.
    assert.strictEqual(o.store.rowsAtMost('runs'), 4);
    await sleep(300); // several prunes
    assert.strictEqual(o.history(100).length, 4);
    assert.ok(!o.eventsSince(0).some((e) => e.type === 'history.pruned'), 'nothing pruned');
    await o.add(Array.from({ length: 4 }, (_, i) => ({ name: `more${i}`, trigger: { kind: 'delay' as const, delay: `${10 + i}ms` }, run: { command: 'true' } })));
    await waitFor(() => o!.eventsSince(0).filter((e) => e.type === 'task.completed').length === 8, 8000, 'all eight runs');
    await waitFor(() => o!.history(100).length === 5, 3000, 'pruning down to five');
    const kept = o.history(100).map((r) => r.name);
    assert.deepStrictEqual(kept.filter((n) => n.startsWith('more')).sort(), ['more0', 'more1', 'more2', 'more3'], 'the newest are kept');
    const span = o.store.rowsAtMost('runs');
    assert.ok(span >= 5 && span < 8, `the span still bounds the count, and the oldest went (${span})`);
    assert.strictEqual(o.store.rowsAtMost('flows'), 0);
    await o.stop();
    await verifyClean(ws);
  });

  it('an action whose runner is missing fails with a reason that says so', async () => {
    o = await engine(ws);
    await o.add({ name: 'needs vscode', trigger: { kind: 'delay', delay: '10ms' }, run: { command: 'true', runner: 'task' } });
    await waitFor(finished(o, 1), 3000, 'the failure');
    assert.match(o.history(1)[0].reason!, /no "task" runner in this orchestrator/);
  });
});

describe('engine: deleting', function () {
  this.timeout(20_000);
  it('deleting an action cancels its run and its waiting dependents; its history stays', async () => {
    const ws = tmpWorkspace();
    const o = await engine(ws);
    try {
      const { actions } = await o.add([
        { name: 'up', trigger: { kind: 'delay', delay: '10ms' }, run: { command: 'sleep 30' } },
        { name: 'down', trigger: { kind: 'after', after: 'up' }, run: { command: 'true' } },
      ]);
      await waitFor(() => o.getAction(actions[0].id)?.status === 'running', 5000, 'the run');
      await o.remove('up');
      assert.strictEqual(o.getAction(actions[0].id), undefined);
      assert.strictEqual(o.getAction(actions[1].id)!.status, 'cancelled');
      assert.match(o.getAction(actions[1].id)!.reason!, /upstream "up" cancelled/);
      assert.strictEqual(o.history(10)[0].status, 'cancelled');
      assert.ok(o.eventsSince(0).some((e) => e.type === 'task.deleted' && e.actionId === actions[0].id));
    } finally {
      await o.stop();
    }
  });
});
