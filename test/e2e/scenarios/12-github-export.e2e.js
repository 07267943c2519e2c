// Scenario 12: a repository's actions file exported to GitHub Actions from the palette. Each
// workflow is shown as a diff before anything is written; the panel says per action whether it
// is exported and whether the export is current; a change to the file makes its flow alone
// out of date until it is exported again; and the command line's --check agrees throughout.
'use strict';
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { withVSCode, until, runCommand, CLI, panelFrame } = require('../scenario');

const FILE = `actions:
  tests:
    run: npm test
    cron: "0 9 * * 1-5"
    tz: Asia/Kolkata
    max-attempts: 2
    runner: process
  report:
    after: tests
    run: ./report.sh
    runner: process
  deploy:
    webhook: release
    run: ./deploy.sh "$SDLC_WEBHOOK_BODY_FILE"
    runner: process
`;

function check(folder) {
  return spawnSync(process.execPath, [CLI, 'export', 'github-actions', '--workspace', folder, '--check'], { encoding: 'utf8', timeout: 30_000 });
}

describe('12. export to GitHub Actions', function () {
  it('shows each workflow as a diff before writing it, and the panel tells exported from out of date', async function () {
    const prepare = (folder) => {
      fs.mkdirSync(path.join(folder, '.sdlc'));
      fs.writeFileSync(path.join(folder, '.sdlc', 'actions.yaml'), FILE);
    };
    await withVSCode('12-github-export', { prepare }, async ({ page, folder, shot, crop }) => {
      const workflows = path.join(folder, '.github', 'workflows');
      // The file's commands wait for approval; exporting them runs nothing, so it is not needed here.
      const approval = page.locator('.monaco-dialog-box');
      await approval.waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Not Now' }).or(page.getByRole('button', { name: 'Cancel' })).first().click();
      await approval.waitFor({ state: 'hidden', timeout: 10_000 });

      // 1. Before: the panel's details say the action is not exported.
      await runCommand(page, 'SDLC: Open Orchestrator Panel');
      let frame = await panelFrame(page);
      await frame.locator('[role=treeitem]').filter({ hasText: 'tests' }).first().click();
      let details = frame.locator('.details');
      await details.getByText('not exported (Export Actions to GitHub Actions)').waitFor({ timeout: 10_000 });

      // 2. Export: a diff per workflow, then one question; nothing is on disk until Write.
      await runCommand(page, 'SDLC: Export Actions to GitHub Actions');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 30_000 });
      const asked = await dialog.innerText();
      assert.match(asked, /Write 2 GitHub Actions workflow file\(s\)\?/);
      assert.match(asked, /new: \.github\/workflows\/sdlc-tests\.yml \(tests, report\)/);
      assert.match(asked, /new: \.github\/workflows\/sdlc-deploy\.yml \(deploy\)/);
      const tabs = await page.locator('.tab').allInnerTexts();
      assert.ok(tabs.some((t) => /sdlc-tests\.yml \(new\): export preview/.test(t)), `a diff of sdlc-tests.yml is open: ${tabs.join(' | ')}`);
      assert.ok(tabs.some((t) => /sdlc-deploy\.yml \(new\): export preview/.test(t)), 'a diff of sdlc-deploy.yml is open');
      assert.ok(!fs.existsSync(workflows), 'nothing written before Write');
      await shot('export-preview');
      await crop('github-export', { x: 348, y: 36, width: 1052, height: 560 });
      await dialog.getByRole('button', { name: 'Write' }).click();
      await until(() => fs.existsSync(path.join(workflows, 'sdlc-tests.yml')) && fs.existsSync(path.join(workflows, 'sdlc-deploy.yml')), 10_000, 'the workflows to be written');
      const tests = fs.readFileSync(path.join(workflows, 'sdlc-tests.yml'), 'utf8');
      assert.match(tests, /cron: 30 3 \* \* 1-5/, '09:00 in Kolkata is 03:30 UTC');
      assert.match(tests, /needs:\n\s+- tests/);
      const agreed = check(folder);
      assert.strictEqual(agreed.status, 0, `the command line agrees with what VS Code wrote: ${agreed.stdout}${agreed.stderr}`);
      await until(async () => (await page.locator('.tab', { hasText: 'export preview' }).count()) === 0, 5000, 'the previews to close');

      // 3. The panel (shown again once the previews close; it remembers the selection): exported, in the row and in the details.
      await page.waitForTimeout(500);
      frame = await panelFrame(page);
      details = frame.locator('.details');
      await frame.locator('[role=treeitem]').filter({ hasText: 'on GitHub' }).first().waitFor({ timeout: 10_000 });
      await details.getByText('exported to .github/workflows/sdlc-tests.yml (up to date)').waitFor({ timeout: 10_000 });
      await shot('panel-exported');

      // 4. The file changes (a pull, another editor): the flow of tests is out of date, deploy is not.
      fs.writeFileSync(path.join(folder, '.sdlc', 'actions.yaml'), FILE.replace('./report.sh', './report.sh --all'));
      // A changed command is asked about again (the approval is per command); not now.
      await approval.waitFor({ timeout: 30_000 });
      assert.match(await approval.innerText(), /report: \.\/report\.sh --all/);
      await page.getByRole('button', { name: 'Cancel' }).click();
      await approval.waitFor({ state: 'hidden', timeout: 10_000 });
      await details.getByText('.github/workflows/sdlc-tests.yml is out of date').waitFor({ timeout: 10_000 });
      await frame.locator('[role=treeitem]').filter({ hasText: 'report' }).filter({ hasText: 'GitHub: out of date' }).first().waitFor({ timeout: 10_000 });
      await frame.locator('[role=treeitem]').filter({ hasText: 'deploy' }).filter({ hasText: 'on GitHub' }).first().waitFor({ timeout: 10_000 });
      assert.strictEqual(check(folder).status, 1, '--check finds it too');
      await shot('panel-stale');
      await crop('github-export-panel', { x: 348, y: 140, width: 1052, height: 260 });

      // 5. Export again: only the changed workflow is shown and written.
      await runCommand(page, 'SDLC: Export Actions to GitHub Actions');
      await dialog.waitFor({ timeout: 30_000 });
      const again = await dialog.innerText();
      assert.match(again, /Write 1 GitHub Actions workflow file\(s\)\?/);
      assert.match(again, /changed: \.github\/workflows\/sdlc-tests\.yml/);
      await dialog.getByRole('button', { name: 'Write' }).click();
      await until(async () => (await page.locator('.tab', { hasText: 'export preview' }).count()) === 0, 5000, 'the previews to close');
      await page.waitForTimeout(500);
      frame = await panelFrame(page);
      await frame.locator('.details').getByText('exported to .github/workflows/sdlc-tests.yml (up to date)').waitFor({ timeout: 10_000 });
      assert.strictEqual(check(folder).status, 0);
      assert.match(fs.readFileSync(path.join(workflows, 'sdlc-tests.yml'), 'utf8'), /\.\/report\.sh --all/);
    });
  });
});
