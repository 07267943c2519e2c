// Scenario 14: a four-step flow (build, then test and lint in parallel, then package when both
// pass). The panel draws the flow run as a graph while it runs, live; test fails, so package is
// skipped and the flow fails; the arrow keys move between the steps; "Re-run Failed Steps" runs
// test again (and package after it) in the same flow, without building again. The sidebar's
// History groups the flow's runs under the flow, and names `after` by the upstreams' names.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { withVSCode, openView, until, runCommand, panelFrame, row, cliJson, CLI } = require('../scenario');

function add(folder, args) {
  const r = spawnSync(process.execPath, [CLI, 'add', '--workspace', folder, '--json', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`add ${args.join(' ')}: ${r.stderr}`);
}

const node = (frame, name) => frame.locator('.flow-node').filter({ has: frame.locator('.flow-node-name', { hasText: new RegExp(`^${name}$`) }) }).first();

describe('14. flows: a graph of steps, live, with re-run of the failed ones', function () {
  it('draws a 4-step flow while it runs, shows the failure, and re-runs the failed step from the panel', async function () {
    await withVSCode(
      '14-flows',
      {
        prepare: (folder) => {
          add(folder, ['--name', 'build', '--manual', '--run', 'echo built >> steps.txt; echo "version=2.4.0" >> "$SDLC_OUTPUT"; sleep 1']);
          add(folder, ['--name', 'test', '--after', 'build', '--run', 'echo "test $SDLC_OUT_BUILD_VERSION" >> steps.txt; sleep 4; test -f fixed || { echo "1 test failed" >&2; exit 1; }']);
          add(folder, ['--name', 'lint', '--after', 'build', '--run', 'echo lint >> steps.txt; sleep 2']);
          add(folder, ['--name', 'package', '--after', 'test', '--after', 'lint', '--run', 'echo package >> steps.txt']);
        },
      },
      async ({ page, folder, shot, crop }) => {
        await openView(page);
        // `after` is named by the upstreams' names, not their ids.
        await row(page, 'package', 'after test, lint').waitFor({ timeout: 20_000 });

        await runCommand(page, 'SDLC: Open Orchestrator Panel');
        const frame = await panelFrame(page);
        await frame.locator('[role=treeitem]').filter({ hasText: /build\s*manual/ }).first().click();
        const details = frame.locator('.details');
        await details.getByRole('button', { name: 'Run Now' }).click();
        const flowTab = frame.locator('vscode-panel-tab', { hasText: 'Flow' });
        await flowTab.waitFor({ timeout: 20_000 });
        await flowTab.click();

        // Drawn while it runs: test and lint side by side after build, package after both.
        await node(frame, 'test').and(frame.locator('.step-running')).waitFor({ timeout: 20_000 });
        const boxes = {};
        for (const n of ['build', 'test', 'lint', 'package']) boxes[n] = await node(frame, n).boundingBox();
        assert.ok(boxes.test.x > boxes.build.x && boxes.lint.x === boxes.test.x, 'test and lint in the column after build');
        assert.ok(boxes.package.x > boxes.test.x, 'package in the column after them');
        assert.strictEqual(await frame.locator('.flow-edge').count(), 4, 'four edges: build→test, build→lint, test→package, lint→package');
        assert.match(await node(frame, 'package').getAttribute('aria-label'), /package: waiting, after lint and test/);
        await shot('flow-running');
        await crop('flow-running', { x: 348, y: 34, width: 1052, height: 470 });

        // test fails: package is skipped, with the reason; the flow failed.
        await node(frame, 'test').and(frame.locator('.step-failed')).waitFor({ timeout: 30_000 });
        await node(frame, 'package').and(frame.locator('.step-skipped')).waitFor({ timeout: 10_000 });
        assert.match(await node(frame, 'package').getAttribute('aria-label'), /upstream "test" failed/);
        await frame.locator('.flow-head .badge', { hasText: 'failed' }).waitFor({ timeout: 10_000 });
        await shot('flow-failed');

        // Keyboard: the arrow keys move along the graph.
        await node(frame, 'build').focus();
        await page.keyboard.press('ArrowRight');
        assert.match(await frame.evaluate(() => document.activeElement.getAttribute('aria-label')), /^lint: succeeded/);
        await page.keyboard.press('ArrowDown');
        assert.match(await frame.evaluate(() => document.activeElement.getAttribute('aria-label')), /^test: failed/);
        await page.keyboard.press('ArrowRight');
        assert.match(await frame.evaluate(() => document.activeElement.getAttribute('aria-label')), /^package: skipped/);

        // Fixed; Re-run Failed Steps runs test and package again, in the same flow, not build.
        fs.writeFileSync(path.join(folder, 'fixed'), '');
        await frame.locator('.flow').getByRole('button', { name: 'Re-run Failed Steps' }).click();
        await node(frame, 'package').and(frame.locator('.step-succeeded')).waitFor({ timeout: 30_000 });
        await frame.locator('.flow-head .badge', { hasText: 'succeeded' }).waitFor({ timeout: 10_000 });
        assert.match(await node(frame, 'test').innerText(), /succeeded · \d+(\.\d+)?\s?s · run 2/);
        assert.match(await frame.locator('.flow-head').innerText(), /attempt 2/);
        const steps = fs.readFileSync(path.join(folder, 'steps.txt'), 'utf8').trim().split('\n');
        assert.strictEqual(steps.filter((s) => s === 'built').length, 1, 'build ran once');
        assert.deepStrictEqual(steps.filter((s) => s.startsWith('test')), ['test 2.4.0', 'test 2.4.0'], 'test saw build\'s output both times');
        await shot('flow-rerun');
        await crop('flow-rerun', { x: 348, y: 34, width: 1052, height: 470 });

        // Clicking a step opens its run.
        await node(frame, 'lint').click();
        await frame.locator('.details h2', { hasText: 'lint' }).waitFor({ timeout: 10_000 });

        // The sidebar groups the flow's runs under the flow.
        await runCommand(page, 'View: Close All Editors');
        const flowRow = row(page, 'build flow', 'succeeded');
        await flowRow.waitFor({ timeout: 15_000 });
        await flowRow.click();
        await row(page, 'package', 'exit 0').waitFor({ timeout: 10_000 });
        await shot('tree-flow');

        const flows = cliJson(['flows', '--workspace', folder]);
        assert.deepStrictEqual(flows.map((f) => [f.name, f.status, f.attempt]), [['build', 'succeeded', 2]]);
      },
    );
  });
});
