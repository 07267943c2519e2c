// Scenario 11: automation that reacts to development. In a git repository with a tasks.json:
// an action scheduled in the wizard "when files change" runs when a file is saved in the
// editor; an on-git checkout action runs when the branch is switched in the integrated
// terminal; an after-task action runs when a task is run from the palette.
'use strict';
const assert = require('assert');
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { withVSCode, openView, row, until, lines, cliJson, runCommand, choose, answer, step, CLI, panelFrame } = require('../scenario');

function git(folder, ...args) {
  const r = spawnSync('git', ['-c', 'user.email=e2e@example.com', '-c', 'user.name=e2e', '-c', 'init.defaultBranch=main', ...args], { cwd: folder, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

function cli(...args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`sdlc-orchestrator ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
}

describe('11. development-event triggers', function () {
  it('runs on a save in the editor, on a branch switch in the terminal, and after a task run from the palette', async function () {
    const prepare = (folder) => {
      fs.mkdirSync(path.join(folder, 'src'));
      fs.writeFileSync(path.join(folder, 'src', 'app.js'), 'console.log(1);\n');
      fs.mkdirSync(path.join(folder, '.vscode'));
      fs.writeFileSync(
        path.join(folder, '.vscode', 'tasks.json'),
        JSON.stringify({ version: '2.0.0', tasks: [{ label: 'build', type: 'shell', command: 'echo building', problemMatcher: [] }] }, null, 2),
      );
      git(folder, 'init', '-q');
      git(folder, 'add', '.');
      git(folder, 'commit', '-q', '-m', 'first');
      cli('add', '--workspace', folder, '--name', 'on-branch', '--on-git', 'checkout', '--runner', 'process', '--run', 'echo "$SDLC_GIT_BRANCH $SDLC_GIT_PREVIOUS" >> branches.txt');
      cli('add', '--workspace', folder, '--name', 'after-build', '--after-task', 'build', '--only-on', 'success', '--runner', 'process', '--run', 'echo "$SDLC_TASK_LABEL $SDLC_TASK_EXIT_CODE" >> after-build.txt');
    };
    await withVSCode('11-dev-triggers', { prepare, settings: { 'files.autoSave': 'off' } }, async ({ page, folder, shot, crop }) => {
      await openView(page);
      await row(page, 'on-branch').waitFor({ timeout: 20_000 });

      // 1. The wizard offers "When files change", checks the glob, and the action runs on a save.
      await runCommand(page, 'SDLC: Schedule Action');
      await choose(page, 'background process');
      await answer(page, 'echo "$SDLC_CHANGED_COUNT $(cat "$SDLC_CHANGED_FILES")" >> saved.txt', 'Schedule Action (2/6)');
      await step(page, 'Schedule Action (3/6)');
      await page.locator('.quick-input-widget .quick-input-list-separator', { hasText: 'While you develop' }).first().waitFor({ timeout: 5000 }).catch(() => {});
      await shot('when-choices');
      // Scrolled to the development events for the README's picture.
      for (let i = 0; i < 9; i++) await page.keyboard.press('ArrowDown');
      await page.waitForTimeout(400);
      await crop('wizard-dev-events', { x: 400, y: 0, width: 602, height: 390 });
      await choose(page, 'When files change');
      // A glob is checked as you type: an unclosed bracket is refused, and Enter does nothing.
      const box = page.locator('.quick-input-widget input');
      // The step's own box, not the pick before it (the widget is reused; a fill that lands on the
      // pick as it closes is cleared by the new step).
      await page.locator('.quick-input-widget', { hasText: 'Which files?' }).waitFor({ timeout: 10_000 });
      await box.fill('src/[a-z');
      await page.locator('.quick-input-widget', { hasText: 'is not a valid glob' }).waitFor({ timeout: 5000 });
      await shot('glob-checked');
      await answer(page, 'src/**/*.js', 'Schedule Action (4/6)');
      await answer(page, 'on-save', 'Schedule Action (5/6)');
      await choose(page, 'On this machine only');
      await row(page, 'on-save', 'on change src/**/*.js').waitFor({ timeout: 10_000 });
      await shot('on-change-scheduled');
      const saved = path.join(folder, 'saved.txt');
      await runCommand(page, 'Go to File...');
      await page.keyboard.insertText('app.js');
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'app.js' }).first().waitFor({ timeout: 10_000 });
      await page.keyboard.press('Enter');
      await page.locator('.tab', { hasText: 'app.js' }).first().waitFor({ timeout: 10_000 });
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('Control+End');
      await page.keyboard.insertText('console.log(2);\n');
      const savedAt = Date.now();
      await page.keyboard.press('Control+S');
      await until(() => lines(saved).length === 1, 10_000, 'the on-change action to run after the save');
      console.log(`      save to run recorded: ${Date.now() - savedAt} ms (debounce 300 ms included)`);
      assert.strictEqual(lines(saved)[0], '1 src/app.js');
      await page.waitForTimeout(1500);
      assert.strictEqual(lines(saved).length, 1, 'one save, one run');
      await shot('ran-on-save');

      // 2. A branch switch typed in the integrated terminal runs the on-git checkout action.
      await runCommand(page, 'Terminal: Create New Terminal');
      await page.locator('.terminal-wrapper.active, .terminal-wrapper').first().waitFor({ timeout: 15_000 });
      await page.waitForTimeout(1500); // the shell's prompt
      await page.keyboard.type('git checkout -q -b feature\n');
      const branches = path.join(folder, 'branches.txt');
      await until(() => lines(branches).length === 1, 15_000, 'the on-git checkout action to run');
      assert.match(lines(branches)[0], /^feature [0-9a-f]{40}$/);
      await shot('ran-on-checkout');

      // 3. A task run from the palette: the after-task action runs with its exit code.
      await page.keyboard.press('F1');
      await page.locator('.quick-input-widget input').fill('>Tasks: Run Task');
      await page.locator('.quick-input-widget .monaco-list-row[aria-label^="Tasks: Run Task"]').first().click();
      await choose(page, 'build');
      const afterBuild = path.join(folder, 'after-build.txt');
      await until(() => lines(afterBuild).length === 1, 15_000, 'the after-task action to run');
      assert.strictEqual(lines(afterBuild)[0], 'build 0');
      await shot('ran-after-task');

      // The history says what started each run.
      const history = cliJson(['history', '--workspace', folder]);
      assert.deepStrictEqual(history.map((r) => [r.name, r.cause]).sort(), [
        ['after-build', 'task:build'],
        ['on-branch', 'git:checkout'],
        ['on-save', 'change'],
      ]);
      await openView(page);
      await row(page, 'on-save', 'on change').waitFor({ timeout: 10_000 });
      await row(page, 'after-build', 'after task build').waitFor({ timeout: 10_000 });
      await shot('history');

      // The panel's details of the on-save action: its trigger, and the files that started its run.
      await runCommand(page, 'SDLC: Open Orchestrator Panel');
      const frame = await panelFrame(page);
      await frame.locator('[role=treeitem]').filter({ hasText: 'on-save' }).first().click();
      const details = frame.locator('.details');
      await details.locator('h2', { hasText: 'on-save' }).waitFor({ timeout: 10_000 });
      await details.getByText('1 file changed: src/app.js').waitFor({ timeout: 10_000 });
      assert.match(await details.innerText(), /on change of src\/\*\*\/\*\.js/);
      await shot('panel-details');

      // 4. An actions file naming a task tasks.json does not have: a warning at its line (tasks
      //    come and go, so it is not an error), and the action is still applied.
      fs.mkdirSync(path.join(folder, '.sdlc'), { recursive: true });
      fs.writeFileSync(path.join(folder, '.sdlc', 'actions.yaml'), 'actions:\n  notes:\n    run: echo notes\n    after-task: deploy\n');
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 30_000 });
      await page.getByRole('button', { name: 'Allow' }).click();
      await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
      await runCommand(page, 'View: Focus Problems (Errors, Warnings, Infos)');
      const warning = page.locator('.markers-panel .monaco-list-row', { hasText: 'no task "deploy" in tasks.json' }).first();
      await warning.waitFor({ timeout: 15_000 });
      assert.match(await warning.innerText(), /\[Ln 4, Col 17\]/);
      await until(() => cliJson(['list', '--workspace', folder]).some((a) => a.name === 'notes' && a.status === 'waiting'), 10_000, 'the file action applied');
      await shot('unknown-task-warning');
    });
  });
});
