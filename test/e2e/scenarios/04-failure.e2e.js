// Scenario 4: a command that exits non-zero shows as failed with its exit code and output,
// and a notification says so.
'use strict';
const assert = require('assert');
const { withVSCode, openView, row, scheduleAction } = require('../scenario');

describe('4. failure', function () {
  it('shows the exit code, the output and a notification', async function () {
    await withVSCode('04-failure', {}, async ({ page, shot, crop }) => {
      await openView(page);
      await scheduleAction(page, { runner: 'background process', command: 'echo "disk is full" >&2; exit 3', when: 'In some minutes', value: '2s', name: 'breaks' });
      const failed = row(page, 'breaks', 'exit 3');
      await failed.waitFor({ timeout: 20_000 });
      const toast = page.locator('.notification-toast', { hasText: 'failed' }).filter({ hasText: 'breaks' });
      await toast.waitFor({ timeout: 10_000 });
      const text = await toast.innerText();
      assert.match(text, /failed/i);
      assert.match(text, /exit code 3/);
      await shot('failed-with-notification');
      await crop('failure', { x: 940, y: 680, width: 460, height: 80 });
      await toast.getByRole('button', { name: 'Show Output' }).click();
      const editor = page.locator('.monaco-editor', { hasText: 'disk is full' });
      await editor.waitFor({ timeout: 10_000 });
      // The editor renders spaces as no-break spaces.
      const shown = (await editor.innerText()).replace(/\u00a0/g, ' ');
      assert.match(shown, /breaks: failed \(exit code 3\)/);
      assert.match(shown, /exit code: 3 · attempt 1/);
      await shot('output');
      await crop('run-output', { x: 348, y: 34, width: 800, height: 210 });
    });
  });
});
