// Scenario 8: in an untrusted folder nothing executes and the UI says why; trusting the
// folder starts the loop, and what was due runs then.
'use strict';
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { withVSCode, CLI, openView, runCommand, statusText, until } = require('../scenario');

describe('8. untrusted folder', function () {
  it('runs nothing until the folder is trusted', async function () {
    const prepare = (folder) => {
      // An action already due when VS Code opens the folder.
      const r = spawnSync(process.execPath, [CLI, 'add', '--workspace', folder, '--name', 'guarded', '--in', '2s', '--runner', 'process', '--run', 'echo ran > ran.txt'], { encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stderr);
    };
    await withVSCode('08-untrusted', { trust: true, prepare }, async ({ page, folder, shot, crop }) => {
      const dontTrust = page.getByRole('button', { name: /No, I don.t trust the authors/ });
      await dontTrust.waitFor({ timeout: 30_000 });
      await shot('trust-dialog');
      await dontTrust.click();
      await page.locator('.activitybar [aria-label="SDLC Orchestrator"]').first().click();
      await page.locator('.pane-body', { hasText: 'not trusted' }).first().waitFor({ timeout: 20_000 });
      await until(async () => /untrusted/i.test(await statusText(page)), 10_000, 'the status bar to say untrusted');
      await page.waitForTimeout(4000); // well past the action's due time
      assert.ok(!fs.existsSync(path.join(folder, 'ran.txt')), 'nothing ran in the untrusted folder');
      await shot('untrusted');
      await crop('untrusted', { x: 0, y: 60, width: 360, height: 130 });

      await runCommand(page, 'Workspaces: Manage Workspace Trust');
      const trust = page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
      await trust.waitFor({ timeout: 15_000 });
      await trust.click();
      await until(() => fs.existsSync(path.join(folder, 'ran.txt')), 20_000, 'the due action to run once trusted');
      await openView(page);
      await page.locator('.pane-body .monaco-list-row', { hasText: 'guarded' }).first().waitFor({ timeout: 10_000 });
      await shot('trusted-and-ran');
    });
  });
});
