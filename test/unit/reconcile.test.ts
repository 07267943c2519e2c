// The actions file reconciled into a real engine: real files, the real watcher, real sql.js,
// real child processes. Every test ends with the lifecycle log accounting for the tables.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { FileAction } from '../../src/core/definitions/actionsFile';
import type { LifecycleEvent } from '../../src/core/model';
import type { Orchestrator } from '../../src/core/orchestrator';
import { engine, sleep, tmpWorkspace, verifyClean, waitFor } from './helpers';

function writeActions(ws: string, yaml: string): void {
  fs.mkdirSync(path.join(ws, '.sdlc'), { recursive: true });
  fs.writeFileSync(path.join(ws, '.sdlc', 'actions.yaml'), yaml);
}

const events = (o: Orchestrator, type: string): LifecycleEvent[] => o.eventsSince(0, 100_000).filter((e) => e.type === type);
const byName = (o: Orchestrator, name: string) => o.listActions().find((a) => a.name === name);


describe('the actions file reconciled into the engine', function () {
  this.timeout(30_000);
  const running: Orchestrator[] = [];
  const start = async (ws: string, opts: Parameters<typeof engine>[1] = {}) => {
    const o = await engine(ws, opts);
    running.push(o);
    return o;
  };
  afterEach(async () => {
    for (const o of running.splice(0)) await o.stop();
  });

  it('creates, changes, removes and renames, each save reconciled once, and a touch changes nothing', async () => {
    const ws = tmpWorkspace();
    writeActions(ws, 'actions:\n  a:\n    run: echo a\n    manual: true\n  b:\n    run: echo b\n    every: 1h\n');
    const o = await start(ws);
    await waitFor(() => o.listActions().length === 2, 5000, 'both actions created');
    assert.strictEqual(events(o, 'definitions.applied').length, 1);
    const a = byName(o, 'a')!;
    const b = byName(o, 'b')!;
    assert.strictEqual(a.source, 'file');
    assert.strictEqual(b.status, 'scheduled');

    writeActions(ws, 'actions:\n  a:\n    run: echo a\n    manual: true\n  b:\n    run: echo b\n    every: 2h\n');
    await waitFor(() => events(o, 'task.updated').length === 1, 5000, 'b updated');
    const b2 = byName(o, 'b')!;
    assert.strictEqual(b2.id, b.id, 'changed in place');
    assert.deepStrictEqual(b2.trigger, { kind: 'every', every: '2h' });
    assert.ok(b2.dueAt! > b.dueAt!, 'the new interval plans the next run');
    assert.deepStrictEqual(events(o, 'task.updated')[0].data.changed, ['trigger']);
    assert.strictEqual(byName(o, 'a')!.updatedAt, a.updatedAt, 'an unchanged action is not rewritten');

    writeActions(ws, 'actions:\n  c:\n    run: echo b\n    every: 2h\n');
    await waitFor(() => byName(o, 'c') !== undefined && !byName(o, 'a') && !byName(o, 'b'), 5000, 'a removed, b renamed to c');
    const ended = o.eventsOf(a.id).filter((e) => e.type === 'task.cancelled');
    assert.strictEqual(ended.length, 1);
    assert.strictEqual(ended[0].data.reason, 'removed from .sdlc/actions.yaml');
    assert.strictEqual(o.getAction(b.id)!.status, 'cancelled', 'the old name ended; its history stays');
    assert.strictEqual(events(o, 'definitions.applied').length, 3, 'one reconciliation per save');

    const before = o.eventsSince(0, 100_000).length;
    fs.utimesSync(path.join(ws, '.sdlc', 'actions.yaml'), new Date(), new Date());
    writeActions(ws, 'actions:\n  c:\n    run: echo b\n    every: 2h\n');
    await sleep(400);
    assert.strictEqual(o.eventsSince(0, 100_000).length, before, 'the same content again changes nothing');
    await o.stop();
    await verifyClean(ws);
  });

  it('an invalid edit changes nothing, is reported with its line and column, and the old actions keep running', async () => {
    const ws = tmpWorkspace();
    writeActions(ws, 'actions:\n  tick:\n    run: echo tick\n    every: 100ms\n');
    const o = await start(ws);
    await waitFor(() => o.history(10).length >= 1, 5000, 'a first run');
    writeActions(ws, 'actions:\n  tick:\n    run: echo tock\n    every: 100ms\n    cron: "* * * * *"\n');
    await waitFor(() => events(o, 'definitions.invalid').length === 1, 5000, 'the problem recorded');
    const problems = o.status().definitions!.problems;
    assert.deepStrictEqual(
      problems.map((p) => [p.line, p.column]),
      [[5, 11]],
    );
    assert.match(problems[0].message, /two triggers/);
    const runs = o.history(100).length;
    await waitFor(() => o.history(100).length >= runs + 2, 5000, 'the old definition keeps running');
    assert.ok(o.history(100).every((r) => r.outputTail.trim() === 'tick'), 'nothing from the invalid file ran');
    assert.strictEqual(events(o, 'task.updated').length, 0);

    writeActions(ws, 'actions:\n  tick:\n    run: echo tock\n    every: 100ms\n');
    await waitFor(() => o.history(1)[0]?.outputTail.trim() === 'tock', 5000, 'the fixed file applied');
    assert.deepStrictEqual(o.status().definitions!.problems, []);
    await o.stop();
    await verifyClean(ws);
  });

  it('each kind of bad file changes nothing stored and is recorded with its line and column', async () => {
    const ws = tmpWorkspace();
    const good = 'actions:\n  a:\n    run: echo a\n    manual: true\n  b:\n    run: echo b\n    every: 1h\n';
    writeActions(ws, good);
    const o = await start(ws);
    await waitFor(() => o.listActions().length === 2, 5000, 'created');
    const before = JSON.stringify(o.listActions());
    const file = path.join(ws, '.sdlc', 'actions.yaml');
    const bad: [string, string | Buffer, RegExp][] = [
      ['an unknown key', good.replace('manual: true', 'manual: true\n    colour: red'), /^5:5 a: unknown key "colour"/],
      ['a cycle through after', good.replace('manual: true', 'after: b').replace('every: 1h', 'after: a'), /^4:12 a: dependency cycle through "after": a → b → a/],
      ['an unknown after target', good.replace('manual: true', 'after: nope'), /^4:12 a: after "nope": no action of that name/],
      ['duplicate names', `${good}  a:\n    run: echo again\n    manual: true\n`, /^8:3 "a" appears twice \(first on line 2\)/],
      ['a 5 MB file', `${good}${'# padding padding padding padding padding padding padding padding\n'.repeat(80_000)}`, /^1:1 the file is 5\.\d MiB/],
      ['a file that is not UTF-8', Buffer.concat([Buffer.from(good.slice(0, 30)), Buffer.from([0xff, 0xfe]), Buffer.from(good.slice(30))]), /not UTF-8/],
    ];
    for (const [what, content, expected] of bad) {
      const n = events(o, 'definitions.invalid').length;
      fs.writeFileSync(file, content);
      await waitFor(() => events(o, 'definitions.invalid').length === n + 1, 5000, `${what} recorded`);
      const [p] = o.status().definitions!.problems;
      assert.match(`${p.line}:${p.column} ${p.message}`, expected, what);
      assert.strictEqual(JSON.stringify(o.listActions()), before, `${what}: nothing changed`);
    }
    assert.strictEqual(events(o, 'definitions.applied').length, 1);
    await o.stop();
    await verifyClean(ws);
  });

  it('the database deleted: every file action comes back, recurring ones from now, a one-shot that ran does not run again', async () => {
    const ws = tmpWorkspace();
    const at = new Date(Date.now() + 800).toISOString();
    writeActions(ws, `actions:\n  hourly:\n    run: echo hourly\n    every: 1h\n  once:\n    run: echo once >> once.txt\n    at: "${at}"\n  by-hand:\n    run: echo hand\n    manual: true\n`);
    let o = await start(ws);
    await waitFor(() => fs.existsSync(path.join(ws, 'once.txt')) && o.getAction('once')?.status === 'succeeded', 5000, 'the one-shot ran');
    await o.stop();
    running.splice(0);
    for (const f of fs.readdirSync(path.join(ws, '.sdlc'))) if (f !== 'actions.yaml') fs.rmSync(path.join(ws, '.sdlc', f), { recursive: true, force: true });

    const restartedAt = Date.now();
    o = await start(ws);
    await waitFor(() => o.listActions().length === 2, 5000, 'the file actions back');
    assert.deepStrictEqual(o.listActions().map((a) => a.name).sort(), ['by-hand', 'hourly']);
    const hourly = byName(o, 'hourly')!;
    assert.ok(hourly.dueAt! >= restartedAt + 3_600_000 - 1000, 'the interval counts from now');
    assert.strictEqual(o.getAction('once'), undefined, 'a one-shot whose time has passed is not created again');
    await sleep(300);
    assert.strictEqual(fs.readFileSync(path.join(ws, 'once.txt'), 'utf8'), 'once\n');
    assert.deepStrictEqual(o.history(10), [], 'history is what was lost');
    await o.stop();
    await verifyClean(ws);
  });

  it('a run in flight during a change finishes with the definition it started with; the next uses the new one', async () => {
    const ws = tmpWorkspace();
    writeActions(ws, 'actions:\n  build:\n    run: sleep 0.5; echo old\n    manual: true\n');
    const o = await start(ws);
    await waitFor(() => byName(o, 'build') !== undefined, 5000, 'created');
    await o.runNow('build');
    await waitFor(() => byName(o, 'build')!.status === 'running', 5000, 'running');
    writeActions(ws, 'actions:\n  build:\n    run: echo new\n    manual: true\n');
    await waitFor(() => events(o, 'task.updated').length === 1, 5000, 'updated while running');
    assert.strictEqual((events(o, 'task.updated')[0].data.state as { status: string }).status, 'running');
    await waitFor(() => o.history(1).length === 1, 5000, 'the first run ended');
    assert.strictEqual(o.history(1)[0].outputTail.trim(), 'old');
    await o.runNow('build');
    await waitFor(() => o.history(5).length === 2, 5000, 'the second run ended');
    assert.strictEqual(o.history(1)[0].outputTail.trim(), 'new');
    await o.stop();
    await verifyClean(ws);
  });

  it('a command nobody approved is kept paused and never runs; approving it runs it; a new command needs approval again', async () => {
    const ws = tmpWorkspace();
    const approved = new Set<string>();
    writeActions(ws, 'actions:\n  tick:\n    run: echo one >> ticks.txt\n    every: 100ms\n');
    const o = await start(ws, { isApproved: (a: FileAction) => approved.has(a.approvalKey) });
    await waitFor(() => byName(o, 'tick') !== undefined, 5000, 'listed');
    const tick = byName(o, 'tick')!;
    assert.strictEqual(tick.needsApproval, true);
    assert.strictEqual(tick.status, 'paused');
    await assert.rejects(o.runNow('tick'), /not approved on this machine/);
    await sleep(500);
    assert.ok(!fs.existsSync(path.join(ws, 'ticks.txt')), 'nothing ran');

    const key = (o.status().definitions && (await import('../../src/core/definitions/actionsFile')).parseActionsFile(fs.readFileSync(path.join(ws, '.sdlc', 'actions.yaml')), 'f', { now: Date.now() }).actions[0].approvalKey)!;
    approved.add(key);
    assert.deepStrictEqual(await o.request({ op: 'approve', keys: [key] }), { approved: ['tick'] });
    await waitFor(() => fs.existsSync(path.join(ws, 'ticks.txt')), 5000, 'it ran once approved');
    assert.strictEqual(byName(o, 'tick')!.needsApproval, false);

    writeActions(ws, 'actions:\n  tick:\n    run: echo one >> ticks.txt\n    every: 150ms\n');
    await waitFor(() => events(o, 'task.updated').length === 1, 5000, 'schedule changed');
    assert.strictEqual(byName(o, 'tick')!.needsApproval, false, 'a schedule change needs no approval');

    writeActions(ws, 'actions:\n  tick:\n    run: echo two >> ticks.txt\n    every: 150ms\n');
    await waitFor(() => byName(o, 'tick')!.needsApproval, 5000, 'a new command waits for approval');
    await sleep(300); // a run in flight when it changed may still end
    const lines = fs.readFileSync(path.join(ws, 'ticks.txt'), 'utf8');
    await sleep(500);
    assert.strictEqual(fs.readFileSync(path.join(ws, 'ticks.txt'), 'utf8'), lines, 'nothing more ran');
    assert.ok(!lines.includes('two'), 'the unapproved command never ran');
    await o.stop();
    await verifyClean(ws);
  });

  it('ending a file action from outside the file is refused with what to do; pause, resume and run now work', async () => {
    const ws = tmpWorkspace();
    writeActions(ws, 'actions:\n  a:\n    run: echo a\n    manual: true\n');
    const o = await start(ws);
    await waitFor(() => byName(o, 'a') !== undefined, 5000, 'created');
    await assert.rejects(o.cancel('a'), /defined in \.sdlc\/actions\.yaml; to cancel it, remove it from that file/);
    await assert.rejects(o.remove('a'), /to delete it, remove it from that file/);
    await o.pauseAction('a');
    assert.strictEqual(byName(o, 'a')!.status, 'paused');
    await o.resumeAction('a');
    await o.runNow('a');
    await waitFor(() => o.history(1).length === 1, 5000, 'ran');
    await o.stop();
    await verifyClean(ws);
  });

  it('a one-line change in a file of 300 actions rewrites that action alone', async () => {
    const ws = tmpWorkspace();
    const file = (n: number) => `actions:\n${Array.from({ length: 300 }, (_, i) => `  a${i}:\n    run: echo ${i}\n    cron: "${i === 7 ? n : 0} 3 * * *"\n`).join('')}`;
    writeActions(ws, file(0));
    const o = await start(ws);
    await waitFor(() => o.listActions().length === 300, 10_000, 'all created');
    const seq = o.eventsSince(0, 100_000).at(-1)!.seq;
    writeActions(ws, file(30));
    await waitFor(() => events(o, 'definitions.applied').length === 2, 5000, 'applied');
    const after = o.eventsSince(seq, 100_000).filter((e) => e.type !== 'task.scheduled');
    assert.deepStrictEqual(after.map((e) => `${e.type} ${e.actionId ? o.getAction(e.actionId)!.name : ''}`.trim()), ['task.updated a7', 'definitions.applied']);
    await o.stop();
    await verifyClean(ws);
  });

  it('.sdlc/.gitignore lets `git add .sdlc` add the actions file and nothing else', async function () {
    if (spawnSync('git', ['--version']).error) this.skip();
    const ws = tmpWorkspace();
    const git = (...args: string[]) => spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: ws, encoding: 'utf8' });
    git('init', '-q');
    writeActions(ws, 'actions:\n  hook:\n    run: echo hook\n    webhook: preview\n');
    const o = await start(ws, { webhook: { port: 0 } });
    await waitFor(() => byName(o, 'hook') !== undefined, 5000, 'created');
    await o.stop();
    assert.ok(fs.existsSync(path.join(ws, '.sdlc', 'orchestrator.db')) && fs.existsSync(path.join(ws, '.sdlc', 'webhook.json')));
    assert.strictEqual(git('add', '.sdlc').status, 0);
    assert.deepStrictEqual(git('diff', '--cached', '--name-only').stdout.trim().split('\n').sort(), ['.sdlc/.gitignore', '.sdlc/actions.yaml']);
  });
});
