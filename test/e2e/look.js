// Looks at the extension the way a new user meets it, with a screenshot at each step:
//   node test/e2e/look.js OUT_DIR
// (after `npm run package` and `bash test/e2e/setup-vscode.sh`).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { launch, runCommand, step, answer, choose, statusText, REPO } = require('./vscode');

(async () => {
  const out = path.resolve(process.argv[2] ?? path.join(REPO, '.cache', 'shots'));
  fs.mkdirSync(out, { recursive: true });
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sdlc-look-'));
  const vs = await launch({ vsix: path.join(REPO, 'sdlc-orchestrator.vsix'), folder });
  const { page } = vs;
  const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`) });
  // Tight crops for the README: the sidebar with the status bar, the quick input.
  const crop = (name, clip) => page.screenshot({ path: path.join(out, `readme-${name}.png`), clip });
  try {
    await page.waitForTimeout(2000);
    await page.locator('.activitybar [aria-label="SDLC Orchestrator"]').first().click();
    await page.waitForTimeout(1500);
    await shot('01-view');
    await runCommand(page, 'SDLC: Schedule Action');
    await page.waitForTimeout(500);
    await shot('02-wizard-what');
    await choose(page, 'Shell command as a VS Code task');
    await answer(page, 'echo "hello from SDLC" > hello.txt', 'shell command');
    await choose(page, 'In some minutes');
    await step(page, 'Run after how long');
    await page.locator('.quick-input-widget input').fill('0.1');
    await page.waitForTimeout(300);
    await shot('03-wizard-when');
    await page.keyboard.press('Enter');
    await answer(page, 'say hello', 'A name');
    await page.waitForTimeout(500);
    await shot('04-scheduled');
    // A cron action, to see the next run times as you type.
    await runCommand(page, 'SDLC: Schedule Action');
    await choose(page, 'background process');
    await answer(page, 'date >> dates.txt', 'shell command');
    await choose(page, 'cron schedule');
    await step(page, 'Cron expression');
    await page.locator('.quick-input-widget input').fill('*/5 * * * *');
    await page.waitForTimeout(400);
    await shot('05-wizard-cron');
    await crop('wizard-cron', { x: 380, y: 0, width: 640, height: 110 });
    await page.keyboard.press('Enter');
    await answer(page, 'every five minutes', 'A name');
    for (let i = 0; i < 40 && !fs.existsSync(path.join(folder, 'hello.txt')); i++) await page.waitForTimeout(250);
    await page.waitForTimeout(1500);
    await shot('06-ran');
    await crop('tree', { x: 0, y: 30, width: 360, height: 150 });
    await crop('status', { x: 0, y: 826, width: 360, height: 24 });
    console.log('hello.txt:', fs.existsSync(path.join(folder, 'hello.txt')) ? fs.readFileSync(path.join(folder, 'hello.txt'), 'utf8').trim() : 'missing');
    console.log('status bar:', await statusText(page));
    const rows = await page.locator('.pane:has(.title:text-matches("SDLC Orchestrator", "i")) .monaco-list-row').allInnerTexts();
    console.log('tree rows:', JSON.stringify(rows));
  } catch (err) {
    await shot('99-error').catch(() => {});
    console.error(err);
    console.error(vs.serverLog().slice(-3000));
    process.exitCode = 1;
  } finally {
    await vs.close();
    fs.rmSync(folder, { recursive: true, force: true });
  }
})();
