// Scenario 9: the orchestrator panel. It opens, shows an action added from its own form in
// the queue, shows it run and finish without a reload (pushed, not polled), shows its
// timeline, and its Run Now and Cancel buttons work; a reload brings it back with its filter.
// Screenshots in the dark and the light theme.
'use strict';
const assert = require('assert');
const path = require('path');
const { withVSCode, runCommand, until, lines, cliJson, reloadWindow, CLI } = require('../scenario');
const { spawnSync } = require('child_process');

/** The panel's page: a frame inside the webview's iframe, found by what it contains. */
async function panelFrame(page, timeout = 20_000) {
  const end = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      if (await f.locator('#tree').count().catch(() => 0)) return f;
    }
    if (Date.now() > end) throw new Error('the orchestrator panel did not open');
    await page.waitForTimeout(200);
  }
}

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
    await withVSCode('09-panel', {}, async ({ page, folder, shot }) => {
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

      await addAction(frame, { command: 'echo "panel $SDLC_RUN_ID" >> out.txt', runner: 'Background process', when: 'After a delay', value: '6s', name: 'panel job' });
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
      const grid = frame.locator('vscode-data-grid[aria-label="Lifecycle timeline"]');
      await grid.waitFor({ timeout: 10_000 });
      for (const type of ['task.accepted', 'task.started', 'task.completed']) await grid.locator('vscode-data-grid-cell', { hasText: type }).first().waitFor({ timeout: 10_000 });
      await shot('timeline');

      // Run Now and Cancel, from the details of a long job.
      await addAction(frame, { command: 'echo "long $SDLC_RUN_ID" >> long.txt; sleep 60', runner: 'Background process', when: 'Only when run by hand', name: 'long job' });
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

  it('looks like VS Code in the light theme', async function () {
    await withVSCode(
      '09-panel-light',
      {
        theme: 'Default Light Modern',
        prepare: (folder) => {
          const run = (args) => spawnSync(process.execPath, [CLI, ...args, '--workspace', folder], { encoding: 'utf8' });
          run(['add', '--name', 'nightly build', '--cron', '0 2 * * *', '--run', 'npm run build']);
          run(['add', '--name', 'deploy', '--webhook', 'deploy', '--run', './deploy.sh']);
        },
      },
      async ({ page, shot }) => {
        await runCommand(page, 'SDLC: Open Orchestrator Panel');
        const frame = await panelFrame(page);
        await treeRow(frame, 'nightly build').waitFor({ timeout: 20_000 });
        await treeRow(frame, 'nightly build').click();
        await frame.locator('.details h2', { hasText: 'nightly build' }).waitFor({ timeout: 10_000 });
        await shot('light');
      },
    );
  });
});
