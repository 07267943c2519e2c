// Webhooks in a real VS Code: schedule a webhook action with the wizard, post to the hook URL
// without the secret (401, nothing runs) and with it (the action runs), and see the delivery
// in the sidebar and its document. Screenshots in OUT_DIR (default .cache/shots/webhook).
//   node test/e2e/webhook.js [OUT_DIR]   (after `npm run package` and `bash test/e2e/setup-vscode.sh`)
'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { launch, runCommand, answer, choose, step, REPO } = require('./vscode');

function post(url, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

(async () => {
  const out = path.resolve(process.argv[2] ?? path.join(REPO, '.cache', 'shots', 'webhook'));
  fs.mkdirSync(out, { recursive: true });
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'sdlc-webhook-'));
  const vs = await launch({ vsix: path.join(REPO, 'sdlc-orchestrator.vsix'), folder });
  const { page } = vs;
  const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`) });
  try {
    await page.waitForTimeout(2000);
    await page.locator('.activitybar [aria-label="SDLC Orchestrator"]').first().click();
    await page.waitForTimeout(1000);
    await runCommand(page, 'SDLC: Schedule Action');
    await choose(page, 'background process');
    await answer(page, 'cat "$SDLC_WEBHOOK_BODY_FILE" > got.tmp && mv got.tmp got.json && echo "$SDLC_WEBHOOK_DELIVERY_ID" >> ids.txt', 'shell command');
    await choose(page, 'When a webhook arrives');
    await step(page, 'Webhook name');
    await answer(page, 'release');
    await answer(page, 'ship on release', 'A name');
    const info = path.join(folder, '.sdlc', 'webhook.json');
    await until(() => fs.existsSync(info), 15_000, '.sdlc/webhook.json');
    const { url, secret } = JSON.parse(fs.readFileSync(info, 'utf8'));
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await page.locator('.notifications-toasts', { hasText: `${url}/hooks/release` }).waitFor({ timeout: 10_000 });
    await shot('01-scheduled-webhook');

    const denied = await post(`${url}/hooks/release`, '{"tag":"v1"}');
    assert.strictEqual(denied.status, 401, denied.body);
    await page.waitForTimeout(1500);
    assert.ok(!fs.existsSync(path.join(folder, 'got.json')), 'nothing ran without the secret');

    const ok = await post(`${url}/hooks/release`, '{"tag":"v1.2.3","notes":"first"}', { Authorization: `Bearer ${secret}` });
    assert.strictEqual(ok.status, 202, ok.body);
    await until(() => fs.existsSync(path.join(folder, 'got.json')), 15_000, 'the webhook action to run');
    assert.strictEqual(fs.readFileSync(path.join(folder, 'got.json'), 'utf8'), '{"tag":"v1.2.3","notes":"first"}');
    const row = page.locator('.pane-body .monaco-list-row', { hasText: 'ran ship on release' });
    await row.waitFor({ timeout: 10_000 });
    await shot('02-delivery-in-tree');
    await row.click();
    await page.locator('.monaco-editor', { hasText: '"tag": "v1.2.3"' }).waitFor({ timeout: 10_000 });
    await page.waitForTimeout(500);
    await shot('03-delivery-document');
    // Replay from the row's inline button: a second run, for a new delivery id.
    await row.hover();
    await row.locator('.action-label[aria-label="Replay Webhook Delivery"]').click();
    const ids = () => (fs.existsSync(path.join(folder, 'ids.txt')) ? fs.readFileSync(path.join(folder, 'ids.txt'), 'utf8').trim().split('\n') : []);
    await until(() => ids().length === 2, 15_000, 'the replayed delivery to run');
    assert.notStrictEqual(ids()[0], ids()[1]);
    await page.locator('.pane-body .monaco-list-row', { hasText: 'ran ship on release' }).nth(1).waitFor({ timeout: 10_000 });
    await shot('04-replayed');
    const rows = await page.locator('.pane-body .monaco-list-row').allInnerTexts();
    console.log('tree rows:', JSON.stringify(rows));
    console.log('webhook scenario: passed');
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
