// Scenario 6: SIGKILL the extension host in the middle of a run. The command runs in its own
// process group and keeps going; after VS Code starts again (a window reload), the new owner
// adopts it, shows it running, and records it as it really ended. Nothing runs twice.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { withVSCode, openView, row, inline, reloadWindow, scheduleAction, until, lines, cliJson } = require('../scenario');

describe('6. kill', function () {
  it('adopts a run that outlived a SIGKILL of the extension host and records how it really ended, without running it twice', async function () {
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

      // Still going after the reload: adopted, shown running.
      await until(() => cliJson(['events', '--workspace', folder]).some((e) => e.type === 'task.recovered' && e.data.adopted), 30_000, 'the run to be adopted');
      await row(page, 'long build', 'running').waitFor({ timeout: 10_000 });
      await shot('adopted');
      // It finishes on its own; its real exit code is recorded.
      await until(() => lines(path.join(folder, 'k.txt')).includes('finished'), 15_000, 'the command to finish');
      await until(() => cliJson(['history', '--workspace', folder]).length === 1, 10_000, 'the run to be recorded');
      const [run] = cliJson(['history', '--workspace', folder]);
      assert.strictEqual(run.status, 'succeeded', JSON.stringify(run));
      assert.strictEqual(run.exitCode, 0);
      await row(page, 'long build', 'exit 0').waitFor({ timeout: 10_000 });
      await shot('recorded');
      assert.deepStrictEqual(lines(path.join(folder, 'k.txt')), ['started', 'finished'], 'started once, finished once');
      assert.strictEqual(cliJson(['history', '--workspace', folder]).length, 1, 'no second run');
    });
  });
});
