// Scenario 13: a folder default notification set in the settings announces a failed run
// through the outbox: the receiver refuses the first attempt and accepts the second (the same
// Idempotency-Key), and the panel's Notifications tab shows both attempts without the URL's
// secret. The orchestrator in VS Code serves the change feed and the local API on its listener:
// an SSE client sees every event of the run in order, and the API answers with the same state.
// The link in the notification opens the run in the panel.
'use strict';
const assert = require('assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { withVSCode, openView, scheduleAction, until, runCommand, panelFrame, answer } = require('../scenario');

function startReceiver() {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = got.length === 0 ? 503 : 200; // the first attempt is refused
      got.push({ key: req.headers['idempotency-key'], body: JSON.parse(body), status, path: req.url });
      res.writeHead(status).end(status === 200 ? 'ok' : 'busy');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, got, port: server.address().port })));
}

function api(url, secret, p) {
  return new Promise((resolve, reject) => {
    http.get(new URL(p, url), { headers: { Authorization: `Bearer ${secret}` } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    }).on('error', reject);
  });
}

/** Follows GET /events from the start of the log, as a dashboard would. */
function follow(url, secret) {
  const events = [];
  const req = http.get(new URL('/events', url), { headers: { Authorization: `Bearer ${secret}`, 'Last-Event-ID': '0' } }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buf += chunk;
      for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
        const data = buf.slice(0, end).split('\n').find((l) => l.startsWith('data: '));
        buf = buf.slice(end + 2);
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    });
  });
  return { events, close: () => req.destroy() };
}

describe('13. notifications, the change feed and the local API', function () {
  it('announces a failed run through the outbox, shows each attempt in the panel, and serves the feed and the API', async function () {
    const receiver = await startReceiver();
    const hook = `http://127.0.0.1:${receiver.port}/chat/T0KEN-secret-part`;
    try {
      await withVSCode('13-notifications-api', { settings: { 'sdlcOrchestrator.notify.url': hook } }, async ({ page, folder, shot, crop }) => {
        await openView(page);
        await scheduleAction(page, { runner: 'background process', command: 'echo "compiling"; echo "error: disk is full" >&2; exit 2', when: 'Only when I run it', name: 'nightly build' });
        const infoFile = path.join(folder, '.sdlc', 'webhook.json');
        await until(() => fs.existsSync(infoFile), 15_000, '.sdlc/webhook.json');
        const { url, secret } = JSON.parse(fs.readFileSync(infoFile, 'utf8'));
        const feed = follow(url, secret);

        // Run it from the panel; it fails, and its end is announced.
        await runCommand(page, 'SDLC: Open Orchestrator Panel');
        let frame = await panelFrame(page);
        await frame.locator('[role=treeitem]').filter({ hasText: 'nightly build' }).first().click();
        let details = frame.locator('.details');
        await details.getByRole('button', { name: 'Run Now' }).click();
        await until(() => receiver.got.some((g) => g.status === 200), 30_000, 'the notification to be accepted');
        assert.strictEqual(receiver.got.length, 2, 'refused once, accepted once');
        assert.strictEqual(receiver.got[0].key, receiver.got[1].key, 'the same Idempotency-Key on both attempts');
        const body = receiver.got[1].body;
        assert.strictEqual(body.action.name, 'nightly build');
        assert.deepStrictEqual([body.run.status, body.run.exitCode], ['failed', 2]);
        assert.match(body.output, /compiling/);
        assert.match(body.link, /^vscode:\/\/sdlc-orchestrator\.sdlc-orchestrator\/run\?folder=/);

        // The feed saw it all, in order; the API says the same.
        await until(() => feed.events.filter((e) => e.type === 'notification.attempted').length === 2, 10_000, 'the feed to show both attempts');
        const seqs = feed.events.map((e) => e.seq);
        assert.deepStrictEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'every event from the first, once, in order');
        for (const t of ['task.triggered', 'task.started', 'task.failed', 'notification.queued']) assert.ok(feed.events.some((e) => e.type === t), `the feed has ${t}`);
        feed.close();
        const doc = await api(url, secret, '/openapi.json');
        assert.strictEqual(doc.status, 200, 'the OpenAPI document ships in the .vsix');
        assert.strictEqual(doc.json.openapi, '3.1.0');
        const runs = await api(url, secret, '/runs?status=failed');
        assert.strictEqual(runs.status, 200);
        assert.strictEqual(runs.json.runs.length, 1);
        const notes = await api(url, secret, '/notifications');
        assert.deepStrictEqual(notes.json.notifications.map((n) => [n.status, n.attempts]), [['sent', 2]]);
        assert.ok(!JSON.stringify(notes.json).includes('T0KEN'), 'the API does not show the secret path');

        // The panel's Notifications tab: both attempts, and no secret.
        frame = await panelFrame(page);
        details = frame.locator('.details');
        await frame.locator('vscode-panel-tab', { hasText: 'Notifications' }).click();
        const list = details.locator('.notification-list');
        await list.getByText(/sent to http:\/\/127\.0\.0\.1:\d+\/… · 2 attempts/).waitFor({ timeout: 15_000 });
        const text = await list.innerText();
        assert.match(text, /HTTP 503: busy/);
        assert.match(text, /accepted \(HTTP 200\)/);
        assert.ok(!(await details.innerText()).includes('T0KEN'), 'the panel does not show the secret path');
        await shot('notifications-tab');
        await crop('notifications', { x: 348, y: 34, width: 1052, height: 400 });

        // The notification's link opens the run in the panel (closed first, so the link does it all).
        await runCommand(page, 'View: Close All Editors');
        await until(async () => (await page.locator('.tab', { hasText: 'SDLC Orchestrator' }).count()) === 0, 10_000, 'the panel to close');
        await runCommand(page, 'Open URL');
        await answer(page, body.link);
        // VS Code asks before it lets an extension handle a link.
        const allow = page.locator('.monaco-dialog-box', { hasText: "Allow 'SDLC Orchestrator' extension to open this URI?" });
        await allow.waitFor({ timeout: 15_000 });
        await allow.getByRole('button', { name: 'Open' }).click();
        frame = await panelFrame(page);
        await frame.locator('[role=treeitem][aria-selected=true]', { hasText: 'exit 2' }).waitFor({ timeout: 15_000 });
        await frame.locator('vscode-panel-tab', { hasText: 'Overview' }).click();
        await frame.locator('.details dd', { hasText: body.run.id }).waitFor({ timeout: 15_000 });
        assert.match(await frame.locator('.details').innerText(), /on failure → http:\/\/127\.0\.0\.1:\d+\/… \(json; the folder default in the settings\)/);
        await shot('link-opened-run');
      });
    } finally {
      receiver.server.close();
    }
  });
});
