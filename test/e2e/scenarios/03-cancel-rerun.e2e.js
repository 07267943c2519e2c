// Scenario 3: Run Now, Cancel and Re-run from the tree rows' inline buttons.
'use strict';
const assert = require('assert');
const path = require('path');
const { withVSCode, openView, row, inline, scheduleAction, until, lines, cliJson } = require('../scenario');

describe('3. cancel and re-run', function () {
  it('cancels a running action and runs it again from the history row', async function () {
    await withVSCode('03-cancel-rerun', {}, async ({ page, folder, shot }) => {
      await openView(page);
      await scheduleAction(page, { runner: 'background process', command: 'echo "$SDLC_RUN_ID" >> runs.txt; sleep 60', when: 'Only when I run it', name: 'long job' });
      const queued = row(page, 'long job', 'manual');
      await queued.waitFor({ timeout: 10_000 });
      await inline(page, queued, 'Run Action Now');
      await row(page, 'long job', 'running').waitFor({ timeout: 10_000 });
      await until(() => lines(path.join(folder, 'runs.txt')).length === 1, 10_000, 'the run to start');
      await shot('running');

      await inline(page, row(page, 'long job', 'running'), 'Cancel Action');
      const cancelled = row(page, 'long job', 'cancelled');
      await cancelled.waitFor({ timeout: 10_000 });
      await shot('cancelled');
      const [run] = cliJson(['history', '--workspace', folder]);
      assert.strictEqual(run.status, 'cancelled');

      await inline(page, cancelled, 'Re-run');
      await until(() => lines(path.join(folder, 'runs.txt')).length === 2, 10_000, 'the re-run to start');
      await row(page, 'long job', 'running').waitFor({ timeout: 10_000 });
      await shot('rerun');
      const ids = lines(path.join(folder, 'runs.txt'));
      assert.notStrictEqual(ids[0], ids[1], 'a new run');
      await inline(page, row(page, 'long job', 'running'), 'Cancel Action');
      await until(() => cliJson(['history', '--workspace', folder]).length === 2, 10_000, 'the second cancel');
    });
  });
});
