// What every end-to-end scenario shares: a fresh folder and a fresh real VS Code with our
// .vsix, screenshots under .cache/e2e-shots/<scenario>/, and the few ways a user touches
// the product (the sidebar view, its rows and their inline buttons, the status bar).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const vscode = require('./vscode');

const SHOTS = path.join(vscode.REPO, '.cache', 'e2e-shots');
const VSIX = path.join(vscode.REPO, 'sdlc-orchestrator.vsix');
const CLI = path.join(vscode.REPO, 'bin', 'sdlc-orchestrator.js');

/**
 * Runs `body` against a real VS Code opened on a fresh temporary folder. `prepare(folder)`
 * runs before VS Code starts (to put state on disk first). On failure a screenshot and the
 * server's log tail are kept, and the error is thrown on.
 */
async function withVSCode(name, opts, body) {
  const dir = path.join(SHOTS, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), `sdlc-e2e-${name}-`));
  if (opts.prepare) await opts.prepare(folder);
  const vs = await vscode.launch({ vsix: VSIX, folder, trust: opts.trust, settings: opts.settings, theme: opts.theme });
  const { page } = vs;
  let n = 0;
  const shot = (label) => page.screenshot({ path: path.join(dir, `${String(++n).padStart(2, '0')}-${label}.png`) });
  // Tight crops for the README; `npm run screenshots` copies them into media/readme/.
  const crop = (label, clip) => page.screenshot({ path: path.join(dir, `readme-${label}.png`), clip });
  try {
    await page.waitForTimeout(1500); // the workbench restores its layout after the first paint
    await body({ page, folder, shot, crop, vs });
    await shot('end');
    // Whatever the scenario did, the lifecycle log still accounts for every table row.
    const verify = spawnSync(process.execPath, [CLI, 'verify', '--workspace', folder], { encoding: 'utf8', timeout: 30_000 });
    if (verify.status !== 0) throw new Error(`sdlc-orchestrator verify exited ${verify.status}: ${verify.stdout}${verify.stderr}`);
  } catch (err) {
    await page.screenshot({ path: path.join(dir, '99-failure.png') }).catch(() => {});
    const log = vs.serverLog().trim().split('\n').slice(-25).join('\n');
    err.message += `\n  (screenshot: ${path.join(dir, '99-failure.png')})\n  code-server log tail:\n${log}`;
    // Mocha retries a failed scenario once without saying so; say it here, so a flaky pass shows in the log.
    console.error(`      ! ${name} failed this attempt: ${err.message.split('\n')[0]}`);
    throw err;
  } finally {
    await vs.close();
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Shows our view. Its activity-bar icon toggles, and a reload restores an open sidebar, so look first. */
async function openView(page) {
  // Rows, or (in a folder with nothing yet) the view's welcome content.
  const rows = page.locator('.pane-body .monaco-list-row, .pane-body .welcome-view-content').first();
  const open = await page.locator('.sidebar .title-label', { hasText: /SDLC Orchestrator/i }).first().isVisible();
  if (!open) await page.locator('.activitybar [aria-label="SDLC Orchestrator"]').first().click();
  await rows.waitFor({ timeout: 20_000 });
}

/** Developer: Reload Window, then waits for the workbench and shows our view again. */
async function reloadWindow(page) {
  await vscode.runCommand(page, 'Developer: Reload Window');
  await page.waitForTimeout(1000);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForTimeout(1500);
  await openView(page);
}

/** A row of our tree whose text contains every one of `texts`. */
function row(page, ...texts) {
  let loc = page.locator('.pane-body .monaco-list-row');
  for (const t of texts) loc = loc.filter({ hasText: t });
  return loc.first();
}

async function rowTexts(page) {
  return page.locator('.pane-body .monaco-list-row').allInnerTexts();
}

/** Clicks a row's inline button (they show on hover), by the command's title. */
async function inline(page, rowLocator, title) {
  await rowLocator.hover();
  const button = rowLocator.locator(`.action-label[aria-label="${title}"]`);
  await button.waitFor({ state: 'visible', timeout: 5000 });
  await button.click();
}

/** The orchestrator panel's page: a frame inside the webview's iframe, found by what it contains. */
async function panelFrame(page, timeout = 20_000) {
  const end = Date.now() + timeout;
  for (;;) {
    for (const f of page.frames()) {
      if (await f.locator('#tree').count().catch(() => 0)) return f;
    }
    if (Date.now() > end) throw new Error('the orchestrator panel did not open');
    await page.waitForTimeout(200);
  }
}

/** The folder's state as the CLI reads it (a reader; VS Code keeps owning the folder). */
function cliJson(args) {
  const r = spawnSync(process.execPath, [CLI, ...args, '--json'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`sdlc-orchestrator ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function lines(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** Schedules an action through the wizard, as a user does. `when` is the label of step 3. */
async function scheduleAction(page, { runner, command, when, value, name, keep }) {
  await vscode.runCommand(page, 'SDLC: Schedule Action');
  await vscode.choose(page, runner);
  await vscode.answer(page, command, 'Schedule Action (2/6)');
  await vscode.choose(page, when);
  if (value !== undefined) await vscode.answer(page, value, 'Schedule Action (4/6)');
  await vscode.answer(page, name, 'Schedule Action (5/6)');
  await vscode.choose(page, keep ?? 'On this machine only');
}

module.exports = { ...vscode, SHOTS, CLI, withVSCode, until, openView, reloadWindow, row, rowTexts, inline, cliJson, lines, scheduleAction, panelFrame };
