// Scenario 9: the orchestrator panel. It opens, shows an action added from its own form in
// the queue, shows it run and finish without a reload (pushed, not polled), shows its
// timeline, and its Run Now and Cancel buttons work; a reload brings it back with its filter.
// Screenshots in the dark and the light theme.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { withVSCode, runCommand, until, lines, cliJson, reloadWindow, CLI, panelFrame } = require('../scenario');
const { spawnSync } = require('child_process');

function treeRow(frame, ...texts) {
  let loc = frame.locator('[role=treeitem]');
  for (const t of texts) loc = loc.filter({ hasText: t });
  return loc.first();
}

function toolkitButton(frame, label) {
  return frame.locator('vscode-button').filter({ hasText: new RegExp(`^\\s*${label}\\s*$`) }).first();
}

/** Picks an option of a toolkit dropdown by its visible label. */
async function pick(frame, dropdownLabel, option) {
  const d = frame.locator(`vscode-dropdown[aria-label="${dropdownLabel}"]`).first();
  await d.click();
  await d.locator('vscode-option', { hasText: option }).first().click();
}

async function addAction(frame, { command, runner, when, value, name }) {
  await toolkitButton(frame, 'Add action').click();
  const form = frame.locator('.add-form');
  await form.waitFor();
  await form.locator('#add-command input').fill(command);
  if (runner) await pick(frame, 'Runs as', runner);
  if (when) await pick(frame, 'When', when);
  if (value !== undefined) await form.locator('#add-value input').fill(value);
  if (name) await form.locator('#add-name input').fill(name);
  return form;
}

describe('9. the orchestrator panel', function () {
  it('shows an action queued, running and finished live, its timeline, and Run Now / Cancel work', async function () {
    await withVSCode('09-panel', { theme: 'Default Dark Modern' }, async ({ page, folder, shot, crop }) => {
      await runCommand(page, 'SDLC: Open Orchestrator Panel');
      let frame = await panelFrame(page);
      await frame.locator('#row-queue').waitFor({ timeout: 20_000 });
      await shot('panel-empty');

      // The form checks as Schedule Action does: an empty command and a past time are refused.
      const form = await addAction(frame, { command: '', runner: 'Background process', when: 'At a time', value: '2001-01-01T00:00' });
      await toolkitButton(frame, 'Add').click();
      await form.locator('.field-error', { hasText: 'in the past' }).waitFor({ timeout: 5000 });
      await form.locator('.field-error', { hasText: 'Type the shell command' }).waitFor({ timeout: 5000 });
      await shot('form-errors');
      await toolkitButton(frame, 'Cancel').click();

      await addAction(frame, { command: 'echo "panel $SDLC_RUN_ID" >> out.txt', runner: 'Background process', when: 'In some minutes', value: '6s', name: 'panel job' });
      await frame.locator('.field-info', { hasText: 'Runs once' }).waitFor({ timeout: 5000 });
      await toolkitButton(frame, 'Add').click();
      const queued = treeRow(frame, 'panel job', 'in ');
      await queued.waitFor({ timeout: 10_000 });
      assert.ok(await treeRow(frame, 'Scheduled').isVisible(), 'the action sits under Scheduled');
      await frame.locator('.details h2', { hasText: 'panel job' }).waitFor({ timeout: 10_000 });
      await shot('scheduled');

      // It runs and finishes, and the panel shows it without a reload.
      await until(() => lines(path.join(folder, 'out.txt')).length === 1, 20_000, 'the run');
      const finished = treeRow(frame, 'panel job', 'exit 0');
      await finished.waitFor({ timeout: 10_000 });
      const lag = Number(await frame.evaluate(() => document.body.dataset.lagMs));
      console.log(`      panel drew the finished run ${lag} ms after the event`);
      await finished.click();
      await frame.locator('vscode-panel-tab', { hasText: 'Timeline' }).click();
      const grid = frame.locator('table[aria-label="Lifecycle timeline"]');
      await grid.waitFor({ timeout: 10_000 });
      for (const type of ['task.accepted', 'task.started', 'task.completed']) await grid.locator('td', { hasText: type }).first().waitFor({ timeout: 10_000 });
      await shot('timeline');
      await crop('panel-timeline', { x: 348, y: 70, width: 1052, height: 400 });

      // Run Now and Cancel, from the details of a long job.
      await addAction(frame, { command: 'echo "long $SDLC_RUN_ID" >> long.txt; sleep 60', runner: 'Background process', when: 'Only when I run it', name: 'long job' });
      await toolkitButton(frame, 'Add').click();
      await treeRow(frame, 'long job', 'manual').waitFor({ timeout: 10_000 });
      await frame.locator('.details h2', { hasText: 'long job' }).waitFor({ timeout: 10_000 });
      await toolkitButton(frame, 'Run Now').click();
      await treeRow(frame, 'long job', 'running').waitFor({ timeout: 10_000 });
      await until(() => lines(path.join(folder, 'long.txt')).length === 1, 10_000, 'the long run to start');
      await shot('running');
      await toolkitButton(frame, 'Cancel').click();
      await treeRow(frame, 'long job', 'cancelled').waitFor({ timeout: 10_000 });
      const runs = cliJson(['history', '--workspace', folder]);
      assert.ok(runs.some((r) => r.name === 'long job' && r.status === 'cancelled'), 'the run is cancelled in the database');

      // The tree works from the keyboard: End goes to the last row, Enter opens it, Up and Enter the one above.
      await frame.locator('#tree').focus();
      await page.keyboard.press('End');
      await page.keyboard.press('Enter');
      await frame.locator('.details h2', { hasText: 'panel job' }).waitFor({ timeout: 10_000 });
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('Enter');
      await frame.locator('.details h2', { hasText: 'long job' }).waitFor({ timeout: 10_000 });
      assert.match(await frame.locator('#tree').getAttribute('aria-activedescendant'), /^row-r_/);

      // The filter narrows the tree and survives a reload, with the panel itself.
      await frame.locator('#filter-text input').fill('long');
      await until(async () => !(await treeRow(frame, 'panel job').count()), 5000, 'the filter to hide "panel job"');
      await shot('filtered');
      await reloadWindow(page);
      frame = await panelFrame(page, 30_000);
      await treeRow(frame, 'long job').waitFor({ timeout: 20_000 });
      assert.strictEqual(await frame.locator('#filter-text').evaluate((e) => e.value), 'long');
      assert.strictEqual(await treeRow(frame, 'panel job').count(), 0, 'the filter still applies');
      await shot('restored');
    });
  });

  it('opens 10,000 runs of history at once and scrolls them; shows a webhook payload; light and high-contrast themes', async function () {
    const { folderWithHistory } = require('../../../bench/lib');
    const prepare = async (folder) => {
      const seeded = await folderWithHistory(10_000);
      fs.cpSync(path.join(seeded, '.sdlc'), path.join(folder, '.sdlc'), { recursive: true });
      fs.rmSync(seeded, { recursive: true, force: true });
      const run = (args) => spawnSync(process.execPath, [CLI, ...args, '--workspace', folder], { encoding: 'utf8' });
      run(['add', '--name', 'nightly build', '--cron', '0 2 * * *', '--run', 'npm run build']);
      run(['add', '--name', 'deploy', '--webhook', 'deploy', '--run', 'echo deployed']);
    };
    await withVSCode('09-panel-light', { theme: 'Default Light Modern', prepare }, async ({ page, folder, shot, crop }) => {
      const t0 = Date.now();
      await runCommand(page, 'SDLC: Open Orchestrator Panel');
      const frame = await panelFrame(page);
      await treeRow(frame, 'nightly build').waitFor({ timeout: 20_000 });
      const firstDraw = Date.now() - t0;
      await until(async () => (await frame.locator('#row-history .badge').innerText()) === '10000', 30_000, 'all 10,000 runs in the history');
      const allLoaded = Date.now() - t0;
      // Scroll to the end and back: the frames the panel draws while it scrolls, timed in the page.
      const scroll = await frame.evaluate(async () => {
        const tree = document.getElementById('tree');
        const gaps = [];
        let last = performance.now();
        for (let i = 0; i < 60; i++) {
          tree.scrollTop = (tree.scrollHeight * (i + 1)) / 60;
          await new Promise((r) => requestAnimationFrame(r));
          const t = performance.now();
          gaps.push(t - last);
          last = t;
        }
        return { drawn: tree.querySelectorAll('[role=treeitem]').length, worstFrameMs: Math.max(...gaps), runRowsAtEnd: [...tree.querySelectorAll('[role=treeitem]')].filter((r) => /job \d+/.test(r.textContent)).length };
      });
      console.log(`      10,000 runs: first draw ${firstDraw} ms after the command, all pages ${allLoaded} ms; scrolling end to end: worst frame ${scroll.worstFrameMs.toFixed(0)} ms, ${scroll.drawn} rows in the DOM`);
      assert.ok(scroll.drawn < 200, `only the rows in view are drawn (${scroll.drawn})`);
      assert.ok(scroll.runRowsAtEnd > 0, 'the oldest runs are drawn at the end of the scroll');
      await shot('history-scrolled');
      await frame.evaluate(() => (document.getElementById('tree').scrollTop = 0));

      // A delivery arrives: the inbox shows it, and its payload is pretty-printed.
      const posted = spawnSync(process.execPath, [CLI, 'hook', 'deploy', '--data', '{"ref":"refs/heads/main","commits":2}', '--content-type', 'application/json', '--workspace', folder], { encoding: 'utf8' });
      assert.strictEqual(posted.status, 0, posted.stderr);
      const delivery = frame.locator('[role=treeitem]', { hasText: 'ran deploy' }).first();
      await delivery.waitFor({ timeout: 15_000 });
      await delivery.click();
      await frame.locator('.payload', { hasText: '"ref": "refs/heads/main"' }).waitFor({ timeout: 10_000 });
      await treeRow(frame, 'nightly build').click();
      await frame.locator('.details h2', { hasText: 'nightly build' }).waitFor({ timeout: 10_000 });
      await frame.locator('.next-runs li').nth(4).waitFor({ timeout: 5000 });
      await shot('light');
      await crop('panel-light', { x: 348, y: 70, width: 1052, height: 480 });
    });
    await withVSCode('09-panel-hc', { theme: 'Default High Contrast', prepare }, async ({ page, shot }) => {
      await runCommand(page, 'SDLC: Open Orchestrator Panel');
      const frame = await panelFrame(page);
      await treeRow(frame, 'nightly build').click();
      await frame.locator('.details h2', { hasText: 'nightly build' }).waitFor({ timeout: 10_000 });
      await shot('high-contrast');
    });
  });
});
