// Scenario 15: insight and onboarding, in the light, dark and high-contrast themes. A folder with
// a few hundred runs of four actions (overlapping runs, runs that waited for a slot, failures)
// is shown as a Gantt chart: its bars are drawn, a run started while it is open appears live, the
// arrow keys move between runs (each read out) and Enter opens one; the overview shows the flaky
// action's health. On a first run the Get Started walkthrough opens, and its first step completes
// when an action is scheduled.
'use strict';
const assert = require('assert');
const path = require('path');
const { spawnSync } = require('child_process');
const { withVSCode, openView, until, runCommand, panelFrame, scheduleAction, CLI, REPO } = require('../scenario');

/** A few hundred real runs, made before VS Code starts, by the engine itself (max 3 at once: some wait). */
async function history(folder) {
  const { Orchestrator } = require(path.join(REPO, 'out', 'src', 'core', 'orchestrator'));
  const { ProcessRunner } = require(path.join(REPO, 'out', 'src', 'core', 'processRunner'));
  const o = await Orchestrator.create({ workspace: folder, runners: { process: new ProcessRunner() }, tickMs: 20, maxConcurrent: 3, webhook: false, actionsFile: false, devTriggers: false });
  await o.start();
  await o.add([
    { name: 'build', trigger: { kind: 'manual' }, run: { command: 'sleep 0.05' } },
    { name: 'lint', trigger: { kind: 'manual' }, run: { command: 'true' } },
    { name: 'deploy', trigger: { kind: 'manual' }, run: { command: 'sleep 0.3' }, policy: { concurrency: 3 } },
    { name: 'flaky-test', trigger: { kind: 'manual' }, run: { command: 'n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; sleep 0.1; test $((n % 3)) -ne 1' } },
  ]);
  const counts = { build: 80, lint: 80, deploy: 30, 'flaky-test': 60 };
  for (const [name, n] of Object.entries(counts)) for (let i = 0; i < n; i++) await o.runNow(name);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  while (o.history(1000).length < total) await new Promise((r) => setTimeout(r, 100));
  await o.stop();
  return total;
}

const THEMES = [
  { name: 'light', theme: 'Default Light Modern' },
  { name: 'dark', theme: 'Default Dark Modern' },
  { name: 'high-contrast', theme: 'Default High Contrast' },
];

describe('15. insight and onboarding: the Gantt view, health, the walkthrough, in three themes', function () {
  for (const t of THEMES) {
    it(`shows the runs over time live, with keyboard access, and the health of an action (${t.name})`, async function () {
      let total = 0;
      await withVSCode(`15-insight-${t.name}`, { theme: t.theme, prepare: async (folder) => (total = await history(folder)) }, async ({ page, folder, shot, crop }) => {
        await openView(page);
        await runCommand(page, 'SDLC: Open Orchestrator Panel');
        const frame = await panelFrame(page);
        await frame.locator('[role=treeitem]').first().waitFor({ timeout: 20_000 });
        await frame.locator('vscode-button', { hasText: 'Runs over time' }).click();
        const summary = frame.locator('.gantt-summary');
        await summary.getByText(`${total} run(s) of 4 action(s) in the last hour`, { exact: false }).waitFor({ timeout: 20_000 });
        assert.match(await summary.innerText(), /failed/);
        const gantt = frame.locator('.gantt');
        await until(async () => Number(await gantt.getAttribute('data-bars')) > 0, 10_000, 'bars to be drawn');
        const labels = await frame.locator('.gantt-label').allInnerTexts();
        assert.deepStrictEqual(labels, ['build', 'deploy', 'flaky-test', 'lint']);
        // Overlapping runs of deploy stack in rows of its lane.
        const deployRows = await frame.locator('.gantt-label', { hasText: 'deploy' }).evaluate((e) => e.getBoundingClientRect().height);
        const buildRows = await frame.locator('.gantt-label', { hasText: 'build' }).evaluate((e) => e.getBoundingClientRect().height);
        assert.ok(deployRows >= 40 && buildRows <= 20, `deploy's lane has stacked rows (${deployRows}px), build's one (${buildRows}px)`);
        console.log(`      drew ${await gantt.getAttribute('data-bars')} bars in ${await gantt.getAttribute('data-draw-ms')} ms (${t.name})`);
        await shot('gantt');
        await crop(`gantt-${t.name}`, { x: 348, y: 34, width: 1052, height: 480 });

        // Live: a run started while the view is open appears.
        const r = spawnSync(process.execPath, [CLI, 'run-now', '--workspace', folder, 'deploy'], { encoding: 'utf8' });
        assert.strictEqual(r.status, 0, r.stderr);
        await summary.getByText(`${total + 1} run(s)`, { exact: false }).waitFor({ timeout: 20_000 });

        // Keyboard: the arrow keys move between runs, each read out; Enter opens one.
        await frame.locator('.gantt-chart').focus();
        await page.keyboard.press('ArrowRight');
        const live = frame.locator('.gantt [aria-live]');
        await until(async () => /^build: (succeeded|failed|running), started /.test(await live.innerText()), 5000, 'the first run to be read out');
        await page.keyboard.press('ArrowDown');
        await until(async () => /^deploy: /.test(await live.innerText()), 5000, 'the lane below to be reached');
        await page.keyboard.press('ArrowDown');
        await until(async () => /^flaky-test: /.test(await live.innerText()), 5000, 'flaky-test');
        const said = await live.innerText();
        await page.keyboard.press('Enter');
        await frame.locator('.details h2', { hasText: 'flaky-test' }).waitFor({ timeout: 10_000 });
        assert.match(said, /took \d/);

        // Its health: a third of its runs fail, now and then: flaky.
        const overview = frame.locator('.details .overview');
        await overview.getByText(/\d+% of the last 50 succeeded/).waitFor({ timeout: 10_000 });
        await overview.locator('.health-flaky .badge', { hasText: 'flaky' }).waitFor({ timeout: 10_000 });
        assert.ok((await overview.locator('svg.sparkline polyline').count()) === 1, 'the trend line');
        await shot('health');
        await crop(`health-${t.name}`, { x: 756, y: 140, width: 644, height: 480 });
      });
    });
  }

  it('opens the Get Started walkthrough on a first run; its first step completes when an action is scheduled', async function () {
    await withVSCode('15-walkthrough', { settings: { 'sdlcOrchestrator.openWalkthroughOnFirstRun': true } }, async ({ page, shot, crop }) => {
      const title = page.locator('.gettingStartedContainer').getByText('Get started with SDLC Orchestrator').first();
      await title.waitFor({ timeout: 30_000 });
      const first = page.locator('.getting-started-step', { hasText: 'Schedule a first action' }).first();
      await first.waitFor({ timeout: 10_000 });
      // The step's own checkbox: aria-checked says whether VS Code counts it done.
      const done = async () => (await first.getAttribute('aria-checked')) === 'true';
      assert.strictEqual(await done(), false, 'not done yet');
      await shot('walkthrough');
      // The empty view teaches the first steps.
      await openView(page);
      await page.locator('.pane-body .welcome-view-content', { hasText: 'Nothing is automated in this folder yet.' }).waitFor({ timeout: 10_000 });
      await shot('empty-view');
      await crop('empty-view', { x: 48, y: 34, width: 300, height: 300 });
      // (The walkthrough's page takes the focus from a quick pick: closed first, opened again after.)
      await runCommand(page, 'View: Close All Editors');
      await scheduleAction(page, { runner: 'background process', command: 'echo hello', when: 'Only when I run it', name: 'hello' });
      await runCommand(page, 'SDLC: Get Started with SDLC Orchestrator');
      await first.waitFor({ timeout: 15_000 });
      await until(done, 15_000, 'the first step to complete');
      await shot('walkthrough-step-done');
    });
  });
});
