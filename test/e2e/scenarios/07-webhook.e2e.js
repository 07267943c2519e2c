// Scenario 7: a webhook action runs when its hook is posted to with the secret; without the
// secret the answer is 401 and nothing runs. The delivery shows in the tree; replay works.
'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { withVSCode, openView, row, inline, scheduleAction, until, lines } = require('../scenario');

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

describe('7. webhook', function () {
  it('runs the hook action for an authenticated delivery and refuses one without the secret', async function () {
    await withVSCode('07-webhook', {}, async ({ page, folder, shot, crop }) => {
      await openView(page);
      await scheduleAction(page, {
        runner: 'background process',
        command: 'cat "$SDLC_WEBHOOK_BODY_FILE" > got.tmp && mv got.tmp got.json && echo "$SDLC_WEBHOOK_DELIVERY_ID" >> ids.txt',
        when: 'When a webhook arrives',
        value: 'release',
        name: 'ship on release',
      });
      const info = path.join(folder, '.sdlc', 'webhook.json');
      await until(() => fs.existsSync(info), 15_000, '.sdlc/webhook.json');
      const { url, secret } = JSON.parse(fs.readFileSync(info, 'utf8'));
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/, 'listens on loopback');
      await page.locator('.notifications-toasts', { hasText: `${url}/hooks/release` }).waitFor({ timeout: 10_000 });
      await shot('scheduled-with-url');

      const denied = await post(`${url}/hooks/release`, '{"tag":"v1"}');
      assert.strictEqual(denied.status, 401, denied.body);
      await page.waitForTimeout(1500);
      assert.ok(!fs.existsSync(path.join(folder, 'got.json')), 'nothing ran without the secret');

      const ok = await post(`${url}/hooks/release`, '{"tag":"v1.2.3","notes":"first"}', { Authorization: `Bearer ${secret}` });
      assert.strictEqual(ok.status, 202, ok.body);
      await until(() => fs.existsSync(path.join(folder, 'got.json')), 15_000, 'the webhook action to run');
      assert.strictEqual(fs.readFileSync(path.join(folder, 'got.json'), 'utf8'), '{"tag":"v1.2.3","notes":"first"}');
      const delivery = row(page, 'release', 'ran ship on release');
      await delivery.waitFor({ timeout: 10_000 });
      await shot('delivery-in-tree');
      await delivery.click();
      await page.locator('.monaco-editor', { hasText: '"tag": "v1.2.3"' }).waitFor({ timeout: 10_000 });
      await shot('delivery-document');
      await crop('webhook', { x: 0, y: 34, width: 1000, height: 360 });

      await inline(page, delivery, 'Replay Webhook Delivery');
      await until(() => lines(path.join(folder, 'ids.txt')).length === 2, 15_000, 'the replayed delivery to run');
      const ids = lines(path.join(folder, 'ids.txt'));
      assert.notStrictEqual(ids[0], ids[1]);
      await row(page, 'release', 'replay, ran ship on release').waitFor({ timeout: 10_000 });
    });
  });
});
