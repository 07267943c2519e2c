// Scenario 10: a repository that commits .sdlc/actions.yaml, opened for the first time. Its
// commands run only once the user allows them; an edit saved in the editor reaches the tree
// within a second; a typo is a problem at its line while the old actions keep running; the
// CodeLens Run Now runs an action.
'use strict';
const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { withVSCode, openView, statusText, until, row, inline, cliJson, lines } = require('../scenario');

const GOOD = `actions:
  tick:
    run: echo tick >> ticks.txt
    every: 2s
    runner: process
  build:
    run: echo built >> built.txt
    manual: true
    runner: process
`;

/** Replaces the open editor's text, as typing it would, and saves. */
async function replaceAndSave(page, text) {
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(text);
  await page.keyboard.press('Control+S');
}

async function allow(page) {
  const dialog = page.locator('.monaco-dialog-box');
  await dialog.waitFor({ timeout: 30_000 });
  const text = await dialog.innerText();
  await page.getByRole('button', { name: 'Allow' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
  return text;
}

describe('10. actions file', function () {
  it('asks before running commands from the file, applies saved edits, shows a typo at its line, and runs from a CodeLens', async function () {
    const prepare = (folder) => {
      fs.mkdirSync(path.join(folder, '.sdlc'));
      fs.writeFileSync(path.join(folder, '.sdlc', 'actions.yaml'), GOOD);
    };
    // Typed text is inserted as is: YAML's own "keep the indentation" would add to it.
    const settings = { '[yaml]': { 'editor.autoIndent': 'none' }, 'editor.autoIndent': 'none', 'files.autoSave': 'off' };
    await withVSCode('10-actions-file', { prepare, settings }, async ({ page, folder, shot, crop }) => {
      const ticks = path.join(folder, 'ticks.txt');

      // 1. First sight of the file: the user is shown exactly what would run, and nothing runs yet.
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 30_000 });
      const asked = await dialog.innerText();
      assert.match(asked, /wants to run 2 commands/);
      assert.match(asked, /tick: echo tick >> ticks\.txt/);
      assert.match(asked, /build: echo built >> built\.txt/);
      await shot('approval');
      await crop('actions-approval', { x: 430, y: 233, width: 540, height: 385 });
      await page.waitForTimeout(3000); // past tick's first due time
      assert.ok(!fs.existsSync(ticks), 'nothing ran before it was allowed');
      const waiting = cliJson(['list', '--workspace', folder]);
      assert.deepStrictEqual(waiting.map((a) => [a.name, a.source, a.needsApproval]).sort(), [['build', 'file', true], ['tick', 'file', true]]);
      await page.getByRole('button', { name: 'Allow' }).click();
      await until(() => fs.existsSync(ticks), 10_000, 'tick to run once allowed');

      // 2. The tree marks file actions; Go to Definition opens the file at the action's line.
      await openView(page);
      await row(page, 'tick', 'actions.yaml').waitFor({ timeout: 10_000 });
      await inline(page, row(page, 'tick'), 'Go to Definition');
      await page.locator('.tab', { hasText: 'actions.yaml' }).first().waitFor({ timeout: 10_000 });
      await until(async () => /Ln 2, Col 7 \(4 selected\)/.test(await page.locator('.statusbar').innerText()), 5000, 'the cursor on the action\'s line');

      // 3. Editing and saving the file reaches the tree within a second (and a new command is asked about).
      const saved = Date.now();
      await replaceAndSave(page, `${GOOD}  lint:\n    run: echo lint >> lint.txt\n    manual: true\n    runner: process\n`);
      await row(page, 'lint', 'needs approval').waitFor({ timeout: 5000 });
      const reachedTreeMs = Date.now() - saved;
      console.log(`      saved edit shown in the tree after ${reachedTreeMs} ms`);
      assert.ok(reachedTreeMs < 1500, `the tree showed the new action ${reachedTreeMs} ms after the save`);
      assert.match(await allow(page), /lint: echo lint >> lint\.txt/);
      await row(page, 'lint', 'manual').waitFor({ timeout: 5000 });
      await shot('edited');

      // 4. A typo: a problem at its line and column, a warning in the status bar, the old actions keep running.
      await replaceAndSave(page, GOOD.replace('every: 2s', 'evrey: 2s') + '  lint:\n    run: echo lint >> lint.txt\n    manual: true\n    runner: process\n');
      await until(async () => /actions\.yaml has 1 problem/.test(await statusText(page)), 5000, 'the status bar warning');
      // The status bar's warning opens the Problems panel.
      await page.locator('.statusbar-item', { hasText: 'actions.yaml has 1 problem' }).first().click();
      const problem = page.locator('.markers-panel .monaco-list-row', { hasText: 'unknown key "evrey"' }).first();
      await problem.waitFor({ timeout: 10_000 });
      const problemText = await problem.innerText();
      assert.match(problemText, /did you mean "every"\?/);
      assert.match(problemText, /\[Ln 4, Col 5\]/, `at line 4, column 5: ${problemText}`);
      await shot('typo-in-problems');
      await crop('actions-problems', { x: 348, y: 90, width: 720, height: 540 });
      const before = lines(ticks).length;
      await until(() => lines(ticks).length >= before + 2, 10_000, 'the old tick to keep running');

      // 5. Fixed again; the CodeLens above "build" runs it, and then says how it went.
      await replaceAndSave(page, `${GOOD}  lint:\n    run: echo lint >> lint.txt\n    manual: true\n    runner: process\n`);
      await until(async () => !/problem/.test(await statusText(page)), 5000, 'the warning to go');
      await until(async () => (await page.locator('.codelens-decoration', { hasText: 'Run Now' }).count()) >= 3, 10_000, 'the CodeLens');
      await page.waitForTimeout(500); // the lines settle below their lenses
      const lineBox = await page.locator('.view-line', { hasText: 'build:' }).first().boundingBox();
      // Lenses are drawn again as the engine changes (tick runs every 2 s), so aim by position:
      // the "Run Now" drawn just above the line "build:".
      const anchors = page.locator('.codelens-decoration a', { hasText: 'Run Now' });
      let target;
      for (let i = 0, best = Infinity, n = await anchors.count(); i < n; i++) {
        const box = await anchors.nth(i).boundingBox();
        const gap = box ? lineBox.y - box.y : -1;
        if (gap > 0 && gap < best) [best, target] = [gap, box];
      }
      assert.ok(target, 'a CodeLens above build');
      await page.mouse.click(target.x + target.width / 2, target.y + target.height / 2);
      await until(() => fs.existsSync(path.join(folder, 'built.txt')), 10_000, 'build to run from its CodeLens');
      // The lens above build (not tick's) then says how its run went.
      const buildSucceeded = async () => {
        const done = page.locator('.codelens-decoration', { hasText: 'succeeded' });
        for (let i = 0, n = await done.count(); i < n; i++) {
          const box = await done.nth(i).boundingBox();
          if (box && Math.abs(box.y - target.y) < 6) return true;
        }
        return false;
      };
      await until(buildSucceeded, 10_000, "build's lens to show its result");
      await shot('codelens');
      await crop('actions-codelens', { x: 300, y: 60, width: 900, height: 330 });
    });
  });
});
