// Scenario 1: a new user opens a folder, schedules a command with the wizard, and sees it
// queued, run on time, and in the history; the database is on disk.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { withVSCode, openView, row, rowTexts, scheduleAction, statusText, until } = require('../scenario');

describe('1. first run', function () {
  it('schedules a command with the wizard, runs it on time, and moves it to History', async function () {
    await withVSCode('01-first-run', {}, async ({ page, folder, shot, crop }) => {
      await openView(page);
      await shot('empty-view');
      const scheduledAt = Date.now();
      await scheduleAction(page, { runner: 'as a VS Code task', command: 'echo "hello from SDLC" > hello.txt', when: 'In some minutes', value: '8s', name: 'say hello' });
      const queued = row(page, 'say hello', 'in ');
      await queued.waitFor({ timeout: 10_000 });
      assert.match(await statusText(page), /SDLC: next in \d+ s/, 'the status bar shows what is next');
      await shot('queued');
      await crop('status', { x: 0, y: 826, width: 360, height: 24 });
      assert.ok(!fs.existsSync(path.join(folder, 'hello.txt')), 'not run early');

      await until(() => fs.existsSync(path.join(folder, 'hello.txt')), 30_000, 'hello.txt');
      const ranAfter = Date.now() - scheduledAt;
      assert.ok(ranAfter >= 7000, `ran ${ranAfter} ms after scheduling, before its due time`);
      assert.strictEqual(fs.readFileSync(path.join(folder, 'hello.txt'), 'utf8').trim(), 'hello from SDLC');
      await row(page, 'say hello', 'exit 0').waitFor({ timeout: 15_000 });
      const rows = await rowTexts(page);
      assert.ok(rows.some((r) => /^Queue\s*0/.test(r)) || rows.some((r) => /Nothing queued/.test(r)), `queue emptied: ${rows}`);
      assert.ok(fs.existsSync(path.join(folder, '.sdlc', 'orchestrator.db')), '.sdlc/orchestrator.db exists');
      await shot('ran');
      await crop('tree', { x: 0, y: 30, width: 360, height: 150 });
    });
  });
});
