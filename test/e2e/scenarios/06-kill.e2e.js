// Scenario 6: SIGKILL the extension host in the middle of a run. After VS Code starts it
// again (a window reload), the run is shown as recovered and nothing ran twice.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { withVSCode, openView, row, inline, reloadWindow, scheduleAction, until, lines, cliJson } = require('../scenario');

describe('6. kill', function () {
  it('recovers a run cut off by a SIGKILL of the extension host, without running it twice', async function () {
    await withVSCode('06-kill', {}, async ({ page, folder, shot }) => {
      await openView(page);
      await scheduleAction(page, { runner: 'background process', command: 'echo started >> k.txt; sleep 6; echo finished >> k.txt', when: 'Only when I run it', name: 'long build' });
      await inline(page, row(page, 'long build', 'manual'), 'Run Action Now');
      await until(() => lines(path.join(folder, 'k.txt')).length === 1, 10_000, 'the run to start');
      await row(page, 'long build', 'running').waitFor({ timeout: 10_000 });
      await shot('running');

      // The folder's owner is the extension host process (it runs the engine).
      const owner = JSON.parse(fs.readFileSync(path.join(folder, '.sdlc', 'orchestrator.owner.json'), 'utf8'));
      process.kill(owner.pid, 'SIGKILL');
      await page.waitForTimeout(1500);
      await shot('extension-host-killed');
      await reloadWindow(page);

      const recovered = row(page, 'long build', 'recovered');
      await recovered.waitFor({ timeout: 30_000 });
      await shot('recovered');
      const runs = cliJson(['history', '--workspace', folder]);
      assert.strictEqual(runs.length, 1, `one run in history: ${JSON.stringify(runs)}`);
      assert.strictEqual(runs[0].reason, 'recovered from restart');
      const events = cliJson(['events', '--workspace', folder]).map((e) => e.type);
      assert.ok(events.includes('task.recovered'), `task.recovered logged: ${events}`);
      await page.waitForTimeout(6000); // the orphaned command finishes; nothing starts it again
      assert.deepStrictEqual(lines(path.join(folder, 'k.txt')).filter((l) => l === 'started'), ['started'], 'started once');
      assert.strictEqual(cliJson(['history', '--workspace', folder]).length, 1, 'no second run');
    });
  });
});
