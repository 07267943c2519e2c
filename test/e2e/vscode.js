// A real VS Code for tests: code-server (set up by setup-vscode.sh) with our .vsix installed,
// opened on a folder in headless Chromium through playwright-core. Used by the e2e suite and
// to look at the extension by hand (see look.js).
'use strict';
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const http = require('http');

const REPO = path.resolve(__dirname, '../..');
const CACHE = path.join(REPO, '.cache', 'vscode');
const CODE_SERVER = path.join(CACHE, 'node_modules', '.bin', 'code-server');
const { chromium } = require(path.join(CACHE, 'node_modules', 'playwright-core'));

function freePort() {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function answers(url) {
  return new Promise((resolve) => {
    http.get(url, (res) => {
      res.resume();
      resolve(true);
    }).on('error', () => resolve(false));
  });
}

/**
 * Starts code-server with the extension installed on `folder` (or a `workspace` file) and opens it in Chromium.
 * `settings` are user settings; Workspace Trust is off unless `trust: true` keeps it on.
 */
async function launch({ vsix, folder, workspace, settings = {}, trust = false, theme }) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sdlc-vscode-'));
  const ext = path.join(root, 'extensions');
  const user = path.join(root, 'user-data');
  fs.mkdirSync(path.join(user, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(user, 'User', 'settings.json'),
    JSON.stringify({
      'security.workspace.trust.enabled': trust,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoCheckUpdates': false,
      'terminal.integrated.shellIntegration.enabled': true,
      // The walkthrough opens on a first run; scenario 15 turns it back on to see that.
      'sdlcOrchestrator.openWalkthroughOnFirstRun': false,
      ...(theme ? { 'workbench.colorTheme': theme } : {}),
      ...settings,
    }),
  );
  const install = spawnSync(CODE_SERVER, ['--extensions-dir', ext, '--user-data-dir', user, '--install-extension', vsix], { encoding: 'utf8' });
  if (install.status !== 0) throw new Error(`installing ${vsix} failed: ${install.stderr || install.stdout}`);
  const port = await freePort();
  const server = spawn(
    CODE_SERVER,
    ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--user-data-dir', user, '--extensions-dir', ext, '--disable-telemetry', '--disable-update-check', folder],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let serverLog = '';
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; !(await answers(url)); i++) {
    if (i > 300) throw new Error(`code-server did not start:\n${serverLog}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  // `workspace` opens a multi-root .code-workspace file instead of a folder.
  await page.goto(workspace ? `${url}?workspace=${encodeURIComponent(workspace)}` : `${url}?folder=${encodeURIComponent(folder)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  return {
    page,
    root,
    serverLog: () => serverLog,
    async close() {
      await browser.close().catch(() => {});
      try {
        process.kill(-server.pid, 'SIGTERM'); // the whole group: watchers and the pty host too
      } catch {}
      await new Promise((r) => setTimeout(r, 300));
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {}
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Runs a command from the palette by its title, e.g. "SDLC: Schedule Action". */
async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
}

/**
 * Waits until the quick input shows a step whose prompt or title contains `text`. Name the step
 * by something only it shows, such as its counter ("Schedule Action (2/6)"): the widget is
 * reused, so a word from the step's prompt can also be in a row of the pick still closing.
 */
async function step(page, text) {
  await page.locator('.quick-input-widget', { hasText: text }).waitFor({ state: 'visible', timeout: 10_000 });
}

/** Answers the current quick-input step: types text (if any) and presses Enter. */
async function answer(page, text, prompt) {
  if (prompt) await step(page, prompt);
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  // A fill that lands while the previous step closes is cleared by the next: fill until it stays.
  for (let i = 0; ; i++) {
    if (text !== undefined) await input.fill(text);
    await page.waitForTimeout(150);
    if (text === undefined || (await input.inputValue()) === text || i === 4) break;
  }
  await page.keyboard.press('Enter');
}

/** Picks a row in the current quick pick by (part of) its label. */
async function choose(page, label) {
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
  // A long list draws only the rows in view: type the label to bring a row further down into it.
  const shown = await row.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false);
  if (!shown) await page.locator('.quick-input-widget input').fill(label);
  await row.waitFor({ state: 'visible', timeout: 10_000 });
  await row.click();
}

async function statusText(page) {
  const items = await page.locator('.statusbar-item').allInnerTexts();
  return items.find((t) => t.includes('SDLC')) ?? '';
}

module.exports = { launch, runCommand, step, answer, choose, statusText, REPO };
