// Scenario 5: reloading the window keeps the queue and the history, and an action scheduled
// before the reload fires once after it.
'use strict';
const assert = require('assert');
const path = require('path');
const { withVSCode, openView, row, reloadWindow, scheduleAction, until, lines, cliJson } = require('../scenario');

describe('5. reload', function () {
  it('keeps queue and history across a window reload and fires the scheduled action once', async function () {
    await withVSCode('05-reload', {}, async ({ page, folder, shot }) => {
      await openView(page);
      await scheduleAction(page, { runner: 'background process', command: 'echo first >> first.txt', when: 'In some minutes', value: '1s', name: 'before reload' });
      await row(page, 'before reload', 'exit 0').waitFor({ timeout: 15_000 });
      await scheduleAction(page, { runner: 'background process', command: 'echo fired >> fired.txt', when: 'In some minutes', value: '25s', name: 'after reload' });
      await row(page, 'after reload', 'in ').waitFor({ timeout: 10_000 });
      await shot('before-reload');

      await reloadWindow(page);
      await row(page, 'after reload', 'in ').waitFor({ timeout: 20_000 });
      await row(page, 'before reload', 'exit 0').waitFor({ timeout: 10_000 });
      await shot('after-reload');
      assert.deepStrictEqual(lines(path.join(folder, 'fired.txt')), [], 'not fired early');

      await until(() => lines(path.join(folder, 'fired.txt')).length > 0, 40_000, 'the action scheduled before the reload');
      await row(page, 'after reload', 'exit 0').waitFor({ timeout: 10_000 });
      await page.waitForTimeout(2000);
      assert.deepStrictEqual(lines(path.join(folder, 'fired.txt')), ['fired'], 'fired once');
      assert.strictEqual(cliJson(['history', '--workspace', folder]).filter((r) => r.name === 'after reload').length, 1);
      await shot('fired');
    });
  });
});
