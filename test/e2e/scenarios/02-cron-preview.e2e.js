// Scenario 2: the wizard previews a cron expression's next run times, and an invalid one is
// an error in the input that cannot be submitted.
'use strict';
const assert = require('assert');
const { withVSCode, openView, runCommand, choose, answer, step, cliJson } = require('../scenario');

describe('2. cron and preview', function () {
  it('shows the next run times as you type, and refuses an invalid expression', async function () {
    await withVSCode('02-cron-preview', {}, async ({ page, folder, shot, crop }) => {
      await openView(page);
      await runCommand(page, 'SDLC: Schedule Action');
      await choose(page, 'background process');
      await answer(page, 'date >> dates.txt', 'Schedule Action (2/6)');
      await choose(page, 'On a cron schedule');
      await step(page, 'Schedule Action (4/6)');
      const box = page.locator('.quick-input-widget input');
      const message = page.locator('.quick-input-widget .quick-input-message');
      await box.fill('*/5 * * * *');
      await page.waitForTimeout(400);
      const preview = await message.innerText();
      assert.match(preview, /^Next: .+ · .+ · .+/, `three next run times: ${preview}`);
      await shot('cron-preview');
      await crop('wizard-cron', { x: 380, y: 0, width: 640, height: 110 });

      await box.fill('61 * * * *');
      await page.waitForTimeout(400);
      const error = await message.innerText();
      assert.match(error, /minute|61/i, `the error names the problem: ${error}`);
      await shot('cron-invalid');
      await page.keyboard.press('Enter');
      await page.waitForTimeout(700);
      assert.ok(await page.locator('.quick-input-widget', { hasText: 'Schedule Action (4/6)' }).isVisible(), 'Enter did not move past an invalid expression');
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
      assert.deepStrictEqual(cliJson(['list', '--workspace', folder]), [], 'nothing was scheduled');
    });
  });
});
