// Webhooks over real HTTP on loopback: authentication, the raw inbox, processing on the next
// tick, dedupe, every refusal, durability across SIGKILL, replay and retention.
import * as assert from 'assert';
import type { ChildProcess } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import { readOwner } from '../../src/core/lease';
import type { Orchestrator } from '../../src/core/orchestrator';
import { sdlcPaths } from '../../src/core/paths';
import { TokenBuckets } from '../../src/core/tokenBucket';
import { authenticate, signBody } from '../../src/core/webhookAuth';
import { postDelivery } from '../../src/core/webhookClient';
import { readWebhookInfo } from '../../src/core/webhookFiles';
import { cli, cliJson, engine, lines, readFolder, sleep, spawnCli, tmpWorkspace, waitFor } from './helpers';

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain HTTP request, for the inputs a well-behaved client would never send. */
function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; path: string }): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(opts.path, url), { method: opts.method ?? 'POST', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** What a refused request must leave untouched: the inbox rows, the body files, the journal. */
function inboxState(ws: string): string {
  const p = sdlcPaths(ws);
  const bodies = fs.existsSync(p.webhooks) ? fs.readdirSync(p.webhooks).sort().join(',') : '';
  return `${bodies}|${fs.statSync(p.journal).size}`;
}

function served(o: Orchestrator): { url: string; secret: string } {
  const info = readWebhookInfo(o.paths);
  assert.ok(info?.url, 'the orchestrator serves webhooks');
  return { url: info.url, secret: info.secret };
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

async function untilServing(ws: string, child: ChildProcess): Promise<string> {
  let url = '';
  await waitFor(() => {
    const info = readWebhookInfo(sdlcPaths(ws));
    if (info?.url && info.pid === child.pid && readOwner(sdlcPaths(ws))?.pid === child.pid) url = info.url;
    return url !== '' || child.exitCode !== null;
  }, 15_000, 'the CLI to serve webhooks');
  assert.ok(url, 'the CLI exited before serving webhooks');
  return url;
}

describe('webhook authentication', () => {
  it("verifies GitHub's documented X-Hub-Signature-256 example, and a one-byte change fails it", () => {
    // From GitHub's "Validating webhook deliveries" documentation.
    const secret = "It's a Secret to Everybody";
    const body = Buffer.from('Hello, World!');
    const sig = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    assert.strictEqual(signBody(secret, body), sig);
    assert.deepStrictEqual(authenticate(secret, { 'x-hub-signature-256': sig }, body, Date.now()), { ok: true, method: 'signature' });
    const changed = Buffer.from('Hello, World?');
    const r = authenticate(secret, { 'x-hub-signature-256': sig }, changed, Date.now());
    assert.strictEqual(r.ok, false);
  });

  it('accepts the secret as a bearer token and refuses anything else with a reason', () => {
    const secret = 'x'.repeat(40);
    const body = Buffer.from('{}');
    assert.strictEqual(authenticate(secret, { authorization: `Bearer ${secret}` }, body, 0).ok, true);
    const wrong = authenticate(secret, { authorization: `Bearer ${secret}y` }, body, 0);
    assert.ok(!wrong.ok && /bearer token/.test(wrong.error));
    const none = authenticate(secret, {}, body, 0);
    assert.ok(!none.ok && /authentication required/.test(none.error));
  });

  it('binds a timestamp into the signature and refuses one outside the tolerance', () => {
    const secret = 'y'.repeat(40);
    const body = Buffer.from('payload');
    const now = Date.now();
    const ts = String(Math.floor(now / 1000));
    const headers = { 'x-sdlc-timestamp': ts, 'x-hub-signature-256': signBody(secret, body, ts) };
    assert.strictEqual(authenticate(secret, headers, body, now).ok, true);
    const late = authenticate(secret, headers, body, now + 10 * 60_000);
    assert.ok(!late.ok && /tolerance/.test(late.error));
    // A signature of the body alone does not pass once a timestamp is claimed.
    const unbound = authenticate(secret, { 'x-sdlc-timestamp': ts, 'x-hub-signature-256': signBody(secret, body) }, body, now);
    assert.strictEqual(unbound.ok, false);
  });

  it('limits each key with a token bucket and says when to retry', () => {
    const b = new TokenBuckets({ perMinute: 60, burst: 2 });
    assert.strictEqual(b.take('a', 0), 0);
    assert.strictEqual(b.take('a', 0), 0);
    assert.strictEqual(b.take('a', 0), 1000);
    assert.strictEqual(b.take('b', 0), 0, 'other keys have their own bucket');
    assert.strictEqual(b.take('a', 1000), 0, 'a token is back after a second');
  });
});

describe('webhooks over loopback HTTP', function () {
  this.timeout(60_000);
  let o: Orchestrator | undefined;
  afterEach(async () => {
    await o?.stop();
    o = undefined;
  });

  it('runs exactly the actions of the hook, on the next tick, with the raw body byte for byte', async () => {
    const ws = tmpWorkspace();
    o = await engine(ws);
    const copy = (tag: string) =>
      `echo "$SDLC_WEBHOOK_HOOK" > ${tag}.hook && cp "$SDLC_WEBHOOK_BODY_FILE" ${tag}.tmp && mv ${tag}.tmp ${tag}-$SDLC_WEBHOOK_DELIVERY_ID.bin`;
    await o.add([
      { name: 'a1', trigger: { kind: 'webhook', hook: 'deploy' }, run: { command: copy('a1') } },
      { name: 'a2', trigger: { kind: 'webhook', hook: 'deploy' }, run: { command: copy('a2') } },
      { name: 'other', trigger: { kind: 'webhook', hook: 'other' }, run: { command: copy('other') } },
    ]);
    const info = served(o);
    assert.ok(/^http:\/\/127\.0\.0\.1:\d+$/.test(info.url), `URL ${info.url}`);
    assert.strictEqual(fs.statSync(o.paths.webhookInfo).mode & 0o777, 0o600, 'only the owner can read the secret');
    // Bytes that are not valid UTF-8 or JSON: stored and handed over untouched.
    const body = Buffer.concat([crypto.randomBytes(4096), Buffer.from([0xff, 0xfe, 0x00, 0x80])]);
    const res = await postDelivery(info.url, 'deploy', body, { secret: info.secret });
    assert.strictEqual(res.status, 202, res.body);
    const { id } = JSON.parse(res.body) as { id: string };
    // Stored before the answer: the row and the body file exist, and a reader of the folder sees it.
    assert.ok(fs.existsSync(path.join(o.paths.webhooks, `${id}.body`)));
    const stored = await readFolder(ws, (db) => db.store.getDelivery(id));
    assert.ok(stored, 'the delivery is durable when the 202 arrives');
    assert.strictEqual(stored.sha256, crypto.createHash('sha256').update(body).digest('hex'));

    await waitFor(() => fs.existsSync(path.join(ws, `a1-${id}.bin`)) && fs.existsSync(path.join(ws, `a2-${id}.bin`)), 10_000, 'both deploy actions to run');
    assert.ok(fs.readFileSync(path.join(ws, `a1-${id}.bin`)).equals(body), 'a1 saw the body byte for byte');
    assert.ok(fs.readFileSync(path.join(ws, `a2-${id}.bin`)).equals(body), 'a2 saw the body byte for byte');
    assert.strictEqual(fs.readFileSync(path.join(ws, 'a1.hook'), 'utf8').trim(), 'deploy');
    await sleep(300);
    assert.ok(!fs.existsSync(path.join(ws, 'other.hook')), 'an action on another hook did not run');

    // Received and processed are separate commits: the tick, not the request, queued the runs.
    const events = o.eventsSince(0).filter((e) => e.data.delivery === id);
    const types = events.map((e) => e.type);
    assert.deepStrictEqual(types.filter((t) => t.startsWith('webhook.')), ['webhook.received', 'webhook.processed']);
    assert.ok(events[0].seq < events[1].seq);
    const d = o.getDelivery(id)!;
    assert.strictEqual(d.status, 'processed');
    assert.deepStrictEqual(d.actions.map((a) => a.name).sort(), ['a1', 'a2']);
    assert.ok(!('authorization' in d.headers) && d.headers['x-hub-signature-256'], 'headers are kept, credentials are not');
    await waitFor(() => o!.runsOfDelivery(id).filter((r) => r.status === 'succeeded').length === 2, 5000, 'both runs to be linked to the delivery');
  });

  it('refuses every bad input with its status and a JSON error, and stores nothing', async () => {
    const ws = tmpWorkspace();
    o = await engine(ws, {
      webhook: { maxBodyBytes: 1024, rate: { perMinute: 60, burst: 3 }, headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 600 },
    });
    await o.add({ name: 'd', trigger: { kind: 'webhook', hook: 'deploy' }, run: { command: 'echo ran >> ran.txt' } });
    const { url, secret } = served(o);
    const bearer = { Authorization: `Bearer ${secret}` };
    const before = inboxState(ws);
    const cases: { what: string; status: number; req: Parameters<typeof request>[1]; error: RegExp }[] = [
      { what: 'no secret', status: 401, req: { path: '/hooks/deploy', body: '{}' }, error: /authentication required/ },
      { what: 'wrong bearer', status: 401, req: { path: '/hooks/deploy', headers: { Authorization: 'Bearer nope' }, body: '{}' }, error: /bearer/ },
      {
        what: 'bad signature',
        status: 401,
        req: { path: '/hooks/deploy', headers: { 'X-Hub-Signature-256': signBody(secret, Buffer.from('{}')) }, body: '{ }' },
        error: /signature/,
      },
      { what: 'unknown hook', status: 404, req: { path: '/hooks/nobody', headers: bearer, body: '{}' }, error: /no action runs on hook "nobody"/ },
      { what: 'not a hook path', status: 404, req: { path: '/admin', headers: bearer, body: '{}' }, error: /POST \/hooks\/<name>/ },
      { what: 'wrong method', status: 405, req: { path: '/hooks/deploy', method: 'GET', headers: bearer }, error: /method GET/ },
      { what: 'declared too large', status: 413, req: { path: '/hooks/deploy', headers: bearer, body: Buffer.alloc(2048) }, error: /1024 bytes/ },
      {
        what: 'chunked too large',
        status: 413,
        req: { path: '/hooks/deploy', headers: { ...bearer, 'Transfer-Encoding': 'chunked' }, body: Buffer.alloc(4096) },
        error: /1024 bytes/,
      },
    ];
    for (const c of cases) {
      const r = await request(url, c.req);
      assert.strictEqual(r.status, c.status, `${c.what}: ${r.body}`);
      assert.match(JSON.parse(r.body).error, c.error, c.what);
      assert.strictEqual(inboxState(ws), before, `${c.what} stored nothing`);
    }
    const r405 = await request(url, { path: '/hooks/deploy', method: 'PUT', headers: bearer });
    assert.strictEqual(r405.headers.allow, 'POST');
    assert.strictEqual(o.deliveries().length, 0);

    // Rate: the burst passes, the next is told when to come back.
    for (let i = 0; i < 3; i++) assert.strictEqual((await request(url, { path: '/hooks/deploy', headers: bearer, body: `{"i":${i}}` })).status, 202);
    const afterBurst = fs.readdirSync(o.paths.webhooks).length;
    const limited = await request(url, { path: '/hooks/deploy', headers: bearer, body: '{"i":3}' });
    assert.strictEqual(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After is given');
    assert.match(JSON.parse(limited.body).error, /too many deliveries/);
    assert.strictEqual(fs.readdirSync(o.paths.webhooks).length, afterBurst, 'a limited delivery stored nothing');
    assert.strictEqual(o.deliveries().length, 3);

    // A client that stalls halfway through its headers is cut off.
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const s = net.connect(Number(new URL(url).port), '127.0.0.1', () => s.write('POST /hooks/deploy HTTP/1.1\r\nHost: x\r\n'));
      s.on('error', () => undefined);
      s.resume(); // read what the server sends, so its close is seen
      s.on('close', () => resolve(Date.now() - started));
      setTimeout(() => reject(new Error('a stalled client was not cut off')), 5000);
    });
    assert.ok(closedAfter < 3000, `stalled client cut off after ${closedAfter} ms`);
    // And one that stops sending its body.
    const bodyStall = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const s = net.connect(Number(new URL(url).port), '127.0.0.1', () =>
        s.write(`POST /hooks/deploy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${secret}\r\nContent-Length: 100\r\n\r\n{"par`),
      );
      s.on('error', () => undefined);
      s.resume(); // read what the server sends, so its close is seen
      s.on('close', () => resolve(Date.now() - started));
      setTimeout(() => reject(new Error('a client stalled in its body was not cut off')), 5000);
    });
    assert.ok(bodyStall < 3000, `body-stalled client cut off after ${bodyStall} ms`);
    assert.strictEqual(o.deliveries().length, 3, 'stalled clients stored nothing');
  });

  it('answers a redelivery with the same id alike and runs it once, also when both arrive at once', async () => {
    const ws = tmpWorkspace();
    o = await engine(ws);
    await o.add({ name: 'd', trigger: { kind: 'webhook', hook: 'gh' }, run: { command: 'echo "$SDLC_WEBHOOK_DELIVERY_ID" >> ran.txt' } });
    const { url, secret } = served(o);
    const body = Buffer.from('{"action":"opened"}');
    const sig = signBody(secret, body);
    const github = (id: string) => postDelivery(url, 'gh', body, { contentType: 'application/json', headers: { 'X-Hub-Signature-256': sig, 'X-GitHub-Delivery': id } });
    const first = await github('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    const again = await github('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    assert.strictEqual(first.status, 202);
    assert.strictEqual(again.status, 202);
    assert.strictEqual(again.body, first.body, 'the same answer');
    assert.strictEqual(again.headers['x-sdlc-duplicate'], 'true');
    const both = await Promise.all([github('race-1'), github('race-1'), github('race-1')]);
    assert.deepStrictEqual(new Set(both.map((r) => r.body)).size, 1, 'racing duplicates get one delivery id');
    await waitFor(() => lines(path.join(ws, 'ran.txt')).length >= 2, 10_000, 'two runs');
    await sleep(500);
    assert.strictEqual(lines(path.join(ws, 'ran.txt')).length, 2, 'one run per delivery id');
    assert.strictEqual(o.deliveries().length, 2);
  });

  it('replays a stored delivery as a new one, and retention removes old deliveries with their bodies', async () => {
    const ws = tmpWorkspace();
    o = await engine(ws);
    await o.add({ name: 'd', trigger: { kind: 'webhook', hook: 'h' }, run: { command: 'cat "$SDLC_WEBHOOK_BODY_FILE" >> got.txt; echo >> got.txt' } });
    const { url, secret } = served(o);
    const res = await postDelivery(url, 'h', Buffer.from('first'), { secret });
    const { id } = JSON.parse(res.body) as { id: string };
    await waitFor(() => lines(path.join(ws, 'got.txt')).length === 1, 10_000, 'the first run');
    const replay = await o.replayDelivery(id);
    assert.notStrictEqual(replay.id, id);
    await waitFor(() => lines(path.join(ws, 'got.txt')).length === 2, 10_000, 'the replayed run');
    assert.deepStrictEqual(lines(path.join(ws, 'got.txt')), ['first', 'first']);
    assert.strictEqual(o.getDelivery(replay.id)!.replayOf, id);
    await assert.rejects(o.replayDelivery('no-such-delivery'), /no webhook delivery/);

    await waitFor(() => o!.deliveries().every((d) => d.status === 'processed'), 5000, 'both processed');
    await o.clearHistory();
    assert.strictEqual(o.deliveries().length, 0);
    assert.deepStrictEqual(fs.readdirSync(o.paths.webhooks), [], 'their bodies are gone too');
  });

  it('prunes processed deliveries beyond retention, with their body files', async () => {
    const ws = tmpWorkspace();
    o = await engine(ws, { retention: { maxRuns: 2 }, pruneEveryMs: 50 });
    await o.add({ name: 'd', trigger: { kind: 'webhook', hook: 'h' }, run: { command: 'true' } });
    const { url, secret } = served(o);
    for (let i = 0; i < 5; i++) assert.strictEqual((await postDelivery(url, 'h', Buffer.from(String(i)), { secret })).status, 202);
    await waitFor(() => o!.deliveries().length === 2 && fs.readdirSync(o!.paths.webhooks).length === 2, 10_000, 'retention to keep the newest two');
    const kept = o.deliveries().map((d) => o!.deliveryBody(d.id)!.toString());
    assert.deepStrictEqual(kept, ['4', '3']);
  });

  it('keeps the secret and the port across restarts', async () => {
    const ws = tmpWorkspace();
    o = await engine(ws);
    const first = readWebhookInfo(o.paths)!;
    await o.add({ name: 'd', trigger: { kind: 'webhook', hook: 'h' }, run: { command: 'true' } });
    const kept = JSON.parse((await postDelivery(served(o).url, 'h', Buffer.from('kept'), { secret: first.secret })).body).id as string;
    await o.stop();
    // A body written by an owner that died before committing its row (never acknowledged).
    fs.writeFileSync(path.join(sdlcPaths(ws).webhooks, 'never-acknowledged.body'), 'x');
    assert.strictEqual(readWebhookInfo(sdlcPaths(ws))!.url, null, 'a stopped orchestrator serves no URL');
    o = await engine(ws);
    const second = readWebhookInfo(o.paths)!;
    assert.strictEqual(second.secret, first.secret);
    assert.strictEqual(second.url, first.url);
    assert.deepStrictEqual(fs.readdirSync(o.paths.webhooks), [`${kept}.body`], 'the orphan is gone, the stored delivery kept');
  });
});

describe('webhooks and crashes (the real CLI, SIGKILL)', function () {
  this.timeout(120_000);

  it('processes a delivery acknowledged just before a SIGKILL after the restart, and a redelivery does not run twice', async () => {
    const ws = tmpWorkspace();
    cliJson(['add', '--workspace', ws, '--name', 'deploy', '--webhook', 'deploy', '--run', 'echo "$SDLC_WEBHOOK_DELIVERY_ID" >> ran.txt']);
    // Paused, the owner stores and acknowledges deliveries but processes none: the kill lands
    // between the 202 and the processing every time, not by luck.
    assert.strictEqual(cli(['pause', '--workspace', ws]).code, 0);
    let child = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
    let url = await untilServing(ws, child);
    const { secret } = readWebhookInfo(sdlcPaths(ws))!;
    const res = await postDelivery(url, 'deploy', Buffer.from('{"n":1}'), { secret, deliveryId: 'delivery-1' });
    child.kill('SIGKILL');
    assert.strictEqual(res.status, 202, res.body);
    const { id } = JSON.parse(res.body) as { id: string };
    await exited(child);
    assert.strictEqual((await readFolder(ws, (db) => db.store.getDelivery(id)))?.status, 'received', 'stored, not yet processed');

    child = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
    try {
      url = await untilServing(ws, child);
      const dup = await postDelivery(url, 'deploy', Buffer.from('{"n":1}'), { secret, deliveryId: 'delivery-1' });
      assert.strictEqual(dup.status, 202);
      assert.strictEqual(JSON.parse(dup.body).id, id, 'the redelivery after the crash is recognised');
      assert.strictEqual(cli(['resume', '--workspace', ws]).code, 0);
      await waitFor(() => lines(path.join(ws, 'ran.txt')).length >= 1, 15_000, 'the run after restart');
      await sleep(500);
      assert.deepStrictEqual(lines(path.join(ws, 'ran.txt')), [id], 'ran once, for the stored delivery');

      // Unpaused: kill right after each 202, wherever the engine is; every delivery runs at most once.
      const ids: string[] = [id];
      for (let i = 2; i <= 4; i++) {
        const r = await postDelivery(url, 'deploy', Buffer.from(`{"n":${i}}`), { secret, deliveryId: `delivery-${i}` });
        assert.strictEqual(r.status, 202);
        ids.push(JSON.parse(r.body).id);
        child.kill('SIGKILL');
        await exited(child);
        child = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
        url = await untilServing(ws, child);
        const again = await postDelivery(url, 'deploy', Buffer.from(`{"n":${i}}`), { secret, deliveryId: `delivery-${i}` });
        assert.strictEqual(JSON.parse(again.body).id, ids[ids.length - 1]);
      }
      await waitFor(() => cliJson<{ status: string }[]>(['deliveries', '--workspace', ws]).every((d) => d.status === 'processed'), 15_000, 'every delivery processed');
      await sleep(500);
      const ran = lines(path.join(ws, 'ran.txt'));
      assert.strictEqual(new Set(ran).size, ran.length, `no delivery ran twice: ${ran.join(', ')}`);
      assert.strictEqual(cliJson<unknown[]>(['deliveries', '--workspace', ws]).length, 4);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });

  it('the CLI hook command posts with the secret and explains what went wrong', async () => {
    const ws = tmpWorkspace();
    cliJson(['add', '--workspace', ws, '--name', 'h', '--webhook', 'build', '--run', 'cat "$SDLC_WEBHOOK_BODY_FILE" > got.tmp && mv got.tmp got.json']);
    const none = cli(['hook', '--workspace', ws, 'build']);
    assert.strictEqual(none.code, 1);
    assert.match(none.stderr, /no orchestrator is serving webhooks/);
    const child = spawnCli(['run', '--workspace', ws, '--tick', '50', '--quiet']);
    try {
      await untilServing(ws, child);
      fs.writeFileSync(path.join(ws, 'payload.json'), '{"ref":"refs/heads/main"}');
      const ok = cli(['hook', '--workspace', ws, 'build', '--data', `@${path.join(ws, 'payload.json')}`]);
      assert.strictEqual(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^delivered: [0-9a-f-]{36} to hook build/);
      await waitFor(() => fs.existsSync(path.join(ws, 'got.json')), 10_000, 'the run');
      assert.strictEqual(fs.readFileSync(path.join(ws, 'got.json'), 'utf8'), '{"ref":"refs/heads/main"}');
      const unknown = cli(['hook', '--workspace', ws, 'nope']);
      assert.strictEqual(unknown.code, 1);
      assert.match(unknown.stderr, /404 no action runs on hook "nope"/);
      const listed = cli(['deliveries', '--workspace', ws]);
      assert.match(listed.stdout, /build .* ran h/);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });
});
