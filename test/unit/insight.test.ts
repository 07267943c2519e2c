// Insight: health figures on a real engine with crafted histories (steady, slowing, flaky, and a
// flaky action whose definition then changes), `stats` through the real CLI, and the CLI's
// suggestion for a mistyped command or flag.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import type { Orchestrator } from '../../src/core/orchestrator';
import { sparkline } from '../../src/core/health';
import { healthLines } from '../../src/extension/model/treeModel';
import { axisTicks, fitView, layoutGantt, moveCursor, visibleBars, type GanttRun } from '../../webview/ganttModel';
import { cli, cliJson, engine, tmpWorkspace, verifyClean, waitFor } from './helpers';

describe('insight: per-action health, stats, typo suggestions', function () {
  this.timeout(60_000);
  let ws: string;
  let o: Orchestrator | undefined;
  beforeEach(() => {
    ws = tmpWorkspace();
  });
  afterEach(async () => {
    await o?.stop();
    o = undefined;
    fs.rmSync(ws, { recursive: true, force: true });
  });

  /** Queues `n` runs of an action one after another and waits until they have all ended. */
  async function runTimes(name: string, n: number): Promise<void> {
    const before = o!.history(10_000).filter((r) => r.name === name).length;
    for (let i = 0; i < n; i++) await o!.runNow(name);
    await waitFor(() => o!.history(10_000).filter((r) => r.name === name).length === before + n, 30_000, `${n} runs of ${name}`);
  }

  it('steady, slowing and flaky histories give the figures they should', async () => {
    fs.writeFileSync(path.join(ws, 'delay'), '0.02');
    o = await engine(ws, { tickMs: 20 });
    await o.add([
      { name: 'steady', trigger: { kind: 'manual' }, run: { command: 'sleep 0.05' } },
      { name: 'slowing', trigger: { kind: 'manual' }, run: { command: 'sleep $(cat delay)' } },
      // Passes, fails, passes, …: nothing about it changes but the counter.
      { name: 'flaky', trigger: { kind: 'manual' }, run: { command: 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; test $((n % 2)) -eq 0 || { echo "flake $n"; exit 3; }' } },
    ]);
    await runTimes('steady', 8);
    await runTimes('slowing', 4);
    fs.writeFileSync(path.join(ws, 'delay'), '0.4');
    await runTimes('slowing', 4);
    await runTimes('flaky', 8);
    const h = (name: string) => o!.health(o!.getAction(name)!.id)!;

    const steady = h('steady');
    assert.deepStrictEqual([steady.runs, steady.succeeded, steady.successRate, steady.flaky, steady.flips], [8, 8, 1, false, 0]);
    assert.strictEqual(steady.trend?.word, 'steady');
    assert.ok(steady.p50Ms! >= 50 && steady.p50Ms! < 1000, `p50 ${steady.p50Ms}`);
    assert.strictEqual(steady.lastFailure, undefined);

    const slowing = h('slowing');
    assert.strictEqual(slowing.trend?.word, 'slower');
    assert.ok(slowing.trend!.ratio > 5, `ratio ${slowing.trend!.ratio}`);
    assert.ok(slowing.p95Ms! >= 400);
    assert.strictEqual(slowing.durations.length, 8);
    assert.ok(slowing.durations[7] > slowing.durations[0], 'oldest first');

    const flaky = h('flaky');
    assert.deepStrictEqual([flaky.succeeded, flaky.failed, flaky.successRate, flaky.flips, flaky.flaky], [4, 4, 0.5, 7, true]);
    assert.match(flaky.lastFailure!.reason!, /exit code 3/);
    assert.strictEqual(flaky.lastFailure!.runId, o.history(10_000).find((r) => r.name === 'flaky' && r.status === 'failed')!.runId);
    // The tree's tooltip says it in a few lines.
    const tip = healthLines(flaky);
    assert.match(tip[0], /^Health: 50% of the last 8 succeeded · p50 /);
    assert.match(tip[1], /^Flaky: 7 switches between success and failure/);
    assert.match(tip[2], /^Last failure: .*exit code 3/);
    assert.match(healthLines(slowing)[0], /getting slower \(×\d/);

    // The CLI says the same.
    await o.stop();
    o = undefined;
    const stats = cliJson<{ name: string; flaky: boolean; successRate: number; trend: { word: string } | null }[]>(['stats', '--workspace', ws]);
    assert.deepStrictEqual(
      stats.map((s) => [s.name, s.flaky, s.successRate, s.trend?.word]),
      [['flaky', true, 0.5, 'steady'], ['slowing', false, 1, 'slower'], ['steady', false, 1, 'steady']],
    );
    const text = cli(['stats', '--workspace', ws, 'flaky']);
    assert.strictEqual(text.code, 0, text.stderr);
    assert.match(text.stdout, /success rate: 50\.0%/);
    assert.match(text.stdout, /flaky: yes — 7 switches/);
    assert.match(cli(['stats', '--workspace', ws]).stdout, /flaky\s+50% of 8 .* flaky \(7 flips\)/);
    await verifyClean(ws);
  });

  it('a change to the definition starts the flaky record afresh: a fix is not flakiness', async () => {
    const file = path.join(ws, '.sdlc', 'actions.yaml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const write = (cmd: string) => fs.writeFileSync(file, `actions:\n  fickle:\n    manual: true\n    run: ${JSON.stringify(cmd)}\n`);
    write('n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; test $((n % 2)) -eq 0');
    o = await engine(ws, { tickMs: 20 });
    await waitFor(() => o!.getAction('fickle') !== undefined, 10_000, 'the file to be applied');
    await runTimes('fickle', 6);
    const id = o.getAction('fickle')!.id;
    assert.strictEqual(o.health(id)!.flaky, true);
    write('true');
    await waitFor(() => o!.getAction('fickle')!.run.command === 'true', 10_000, 'the new definition');
    await runTimes('fickle', 3);
    const after = o.health(id)!;
    assert.deepStrictEqual([after.flaky, after.flips, after.succeeded, after.failed], [false, 0, 6, 3], 'the runs before the change still count for the rate, not for flakiness');
    await o.stop();
    o = undefined;
    await verifyClean(ws);
  });

  it('the Gantt view: a lane per action, runs that ran at once stacked, the wait before a bar, what a viewport shows, the keys', () => {
    const now = 1_000_000;
    const run = (runId: string, actionId: string, startedAt: number, endedAt: number | null, queuedAt?: number): GanttRun => ({
      runId, actionId, name: actionId, status: endedAt === null ? 'running' : 'succeeded', startedAt, endedAt, queuedAt: queuedAt ?? startedAt, attempt: 1, exitCode: endedAt === null ? null : 0,
    });
    const runs = [
      run('d1', 'deploy', 100_000, 400_000),
      run('d2', 'deploy', 200_000, 300_000), // during d1: a second row
      run('d3', 'deploy', 500_000, 600_000), // after both: back in the first row
      run('b1', 'build', 100_000, 150_000),
      run('b2', 'build', 160_000, null, 120_000), // waited 40 s for a slot, still running
    ];
    const layout = layoutGantt(runs, now);
    assert.deepStrictEqual(layout.lanes.map((l) => [l.name, l.rows, l.top]), [['build', 1, 0], ['deploy', 2, 1]]);
    assert.deepStrictEqual(layout.lanes[1].bars.map((b) => [b.run.runId, b.row]), [['d1', 0], ['d2', 1], ['d3', 0]]);
    const view = { from: 0, spanMs: 1_000_000, widthPx: 1000 };
    const bars = visibleBars(layout, view, now);
    const b2 = bars.find((b) => layout.lanes[b.lane].bars[b.bar].run.runId === 'b2')!;
    assert.deepStrictEqual([b2.qx, b2.qw, b2.x, b2.w], [120, 40, 160, 840], 'the wait in front, the running bar up to now');
    assert.strictEqual(visibleBars(layout, { from: 450_000, spanMs: 100_000, widthPx: 1000 }, now).map((b) => layout.lanes[b.lane].bars[b.bar].run.runId).sort().join(), 'b2,d3');
    const fitted = fitView(runs, 3_600_000, now, 1000);
    assert.ok(Math.abs(fitted.spanMs - 972_000) < 1e-6 && Math.abs(fitted.from - (now - 972_000)) < 1e-6, 'fitted to the runs, with a margin');
    assert.strictEqual(fitView(runs, 60_000, now, 1000).spanMs, 60_000, 'never wider than the window');
    assert.ok(axisTicks(view).every((t) => t % 15_000 === 0));
    let c = moveCursor(layout, undefined, 'ArrowRight');
    assert.deepStrictEqual(c, { lane: 0, bar: 1 });
    c = moveCursor(layout, c, 'ArrowDown');
    assert.deepStrictEqual(c, { lane: 1, bar: 1 }, 'the nearest run in time of the lane below');
    assert.deepStrictEqual(moveCursor(layout, c, 'End'), { lane: 1, bar: 2 });
  });

  it('a sparkline scales durations to eight heights', () => {
    assert.strictEqual(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), '▁▂▃▄▅▆▇█');
    assert.strictEqual(sparkline([5, 5, 5]), '▄▄▄');
    assert.strictEqual(sparkline([]), '');
  });

  it('the CLI suggests the nearest command or flag for a typo, and exits 2', () => {
    const flag = cli(['add', '--workspace', ws, '--evry', '5m', '--run', 'true']);
    assert.strictEqual(flag.code, 2);
    assert.strictEqual(flag.stderr.trim(), 'sdlc-orchestrator: unknown option --evry; did you mean --every?');
    const command = cli(['histroy', '--workspace', ws]);
    assert.strictEqual(command.code, 2);
    assert.strictEqual(command.stderr.trim(), 'sdlc-orchestrator: unknown command "histroy"; did you mean history?');
    const far = cli(['frobnicate']);
    assert.match(far.stderr, /unknown command "frobnicate"; run "sdlc-orchestrator help"/);
    assert.ok(!fs.existsSync(path.join(ws, '.sdlc')), 'nothing was stored');
  });
});
