// The local API and the change feed over real HTTP on loopback: every call and every refusal
// checked against the OpenAPI document (validated by a standard OpenAPI validator), the SSE
// stream exactly once across reconnects and an owner's SIGKILL, `reset` for a pruned seq, a
// client that stops reading cut off while the others get everything, and `events --follow`.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Orchestrator } from '../../src/core/orchestrator';
import { readWebhookInfo } from '../../src/core/webhookFiles';
import { sdlcPaths } from '../../src/core/paths';
import { CLI, REPO, cli, engine, exited, readFolder, sleep, spawnCli, tmpWorkspace, untilOwner, verifyClean, waitFor } from './helpers';
import { SseClient } from './support/sse';
import { EventSource } from 'eventsource';

const DOC_FILE = path.join(REPO, 'schemas', 'openapi.json');
const doc = JSON.parse(fs.readFileSync(DOC_FILE, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi');

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

function call(url: string, method: string, p: string, opts: { token?: string | null; body?: string | Buffer; type?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token !== null && opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['Content-Type'] = opts.type ?? 'application/json';
    const req = http.request(new URL(p, url), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode!, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const pointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** The answer is one the document lists for this operation, and its body matches that response's schema. */
function conforms(method: string, template: string, a: Answer): void {
  const operation = doc.paths[template]?.[method.toLowerCase()];
  assert.ok(operation, `the document has ${method} ${template}`);
  let response = operation.responses[String(a.status)];
  assert.ok(response, `the document lists ${a.status} for ${method} ${template} (got ${a.text.slice(0, 200)})`);
  let base = `openapi#/paths/${pointer(template)}/${method.toLowerCase()}/responses/${a.status}`;
  if (response.$ref) {
    base = `openapi${response.$ref}`;
    response = doc.components.responses[response.$ref.split('/').pop()];
  }
  const type = Object.keys(response.content)[0];
  assert.ok(String(a.headers['content-type']).startsWith(type), `content type ${a.headers['content-type']} is ${type}`);
  if (type !== 'application/json') return;
  const validate = ajv.compile({ $ref: `${base}/content/${pointer(type)}/schema` });
  assert.ok(validate(a.json), `${method} ${template} ${a.status} matches the document: ${ajv.errorsText(validate.errors)}\n${a.text.slice(0, 400)}`);
}

function served(o: Orchestrator): { url: string; secret: string } {
  const info = readWebhookInfo(o.paths);
  assert.ok(info?.url, 'the listener is up');
  return { url: info.url, secret: info.secret };
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Owners started by the CLI on one port (the URL stays valid across them), and actions added by the CLI. */
async function cliOwners(ws: string, prefix: string): Promise<{ start: () => ReturnType<typeof spawnCli>; addSome: (from: number, n: number) => void }> {
  const port = await freePort();
  return {
    start: () => spawnCli(['run', '--workspace', ws, '--tick', '50', '--webhook-port', String(port), '--lease-stale', '2000', '--quiet']),
    addSome: (from, n) => {
      for (let i = from; i < from + n; i++) assert.strictEqual(cli(['add', '--workspace', ws, '--name', `${prefix}${i}`, '--manual', '--run', 'true']).code, 0);
    },
  };
}

/** Seqs are each received once, and without a gap from the first to the last. */
function assertContiguous(seqs: number[], from: number, to: number): void {
  assert.strictEqual(new Set(seqs).size, seqs.length, `no event twice: ${seqs.join(',')}`);
  assert.deepStrictEqual(seqs, Array.from({ length: to - from + 1 }, (_, i) => from + i), 'every event, in order, none missing');
}

describe('the local API (OpenAPI 3.1, real HTTP on loopback)', () => {
  let ws: string;
  let o: Orchestrator;
  let url: string;
  let secret: string;

  before(async () => {
    ws = tmpWorkspace();
    o = await engine(ws, { devTriggers: false, actionsFile: false });
    ({ url, secret } = served(o));
  });
  after(async () => {
    await o.stop();
    await verifyClean(ws);
  });

  it('the document is valid OpenAPI 3.1, ships in the package, and is what GET /openapi.json serves', async () => {
    const result = await new Validator().validate(structuredClone(doc));
    assert.ok(result.valid, `valid OpenAPI: ${JSON.stringify(result.errors)}`);
    assert.strictEqual(doc.openapi, '3.1.0');
    assert.ok(fs.readFileSync(path.join(REPO, '.vscodeignore'), 'utf8').includes('!schemas/openapi.json'), 'the .vsix ships it');
    const a = await call(url, 'GET', '/openapi.json', { token: secret });
    assert.strictEqual(a.status, 200);
    assert.deepStrictEqual(a.json, doc);
    conforms('GET', '/openapi.json', a);
  });

  it('every call answers as the document says, and drives the engine', async () => {
    const add = await call(url, 'POST', '/actions', { token: secret, body: JSON.stringify({ name: 'build', trigger: { kind: 'manual' }, run: { command: 'echo built; echo second line' } }) });
    assert.strictEqual(add.status, 201, add.text);
    conforms('POST', '/actions', add);
    assert.strictEqual(add.json.created, true);
    const keyed = JSON.stringify({ name: 'nightly', trigger: { kind: 'cron', cron: '0 3 * * *' }, run: { command: 'true' }, idempotencyKey: 'nightly-1', policy: { notify: 'https://hooks.slack.com/services/T0/B0/SECRETPART' } });
    const first = await call(url, 'POST', '/actions', { token: secret, body: keyed });
    const again = await call(url, 'POST', '/actions', { token: secret, body: keyed });
    assert.deepStrictEqual([first.status, again.status], [201, 200], 'the same key adds nothing the second time');
    conforms('POST', '/actions', again);
    assert.strictEqual(again.json.id, first.json.id);
    assert.deepStrictEqual(first.json.policy.notify, { url: 'https://hooks.slack.com/…', on: 'failure', format: 'slack' }, 'the URL\'s secret path is not shown');

    const list = await call(url, 'GET', '/actions', { token: secret });
    conforms('GET', '/actions', list);
    assert.deepStrictEqual(list.json.actions.map((a: { name: string }) => a.name).sort(), ['build', 'nightly']);
    assert.ok(!list.text.includes('SECRETPART'));

    const run = await call(url, 'POST', '/actions/build/run', { token: secret });
    assert.strictEqual(run.status, 200, run.text);
    conforms('POST', '/actions/{id}/run', run);
    let runs: Answer | undefined;
    for (let i = 0; i < 200; i++) {
      runs = await call(url, 'GET', '/runs?action=build&status=succeeded', { token: secret });
      if (runs.json.runs.length) break;
      await sleep(25);
    }
    conforms('GET', '/runs', runs!);
    assert.strictEqual(runs!.json.runs.length, 1, 'the run queued through the API ran');
    const one = await call(url, 'GET', `/runs/${runs!.json.runs[0].runId}`, { token: secret });
    conforms('GET', '/runs/{id}', one);
    assert.match(one.json.outputTail, /built\nsecond line/);

    const detail = await call(url, 'GET', '/actions/build', { token: secret });
    conforms('GET', '/actions/{id}', detail);
    assert.strictEqual(detail.json.runs.length, 1);

    const paged = await call(url, 'GET', '/runs?limit=1', { token: secret });
    conforms('GET', '/runs', paged);
    assert.strictEqual(paged.json.next, paged.json.runs[0].startedAt, 'a full page says where the next one starts');

    for (const [op, status] of [['pause', 'paused'], ['resume', 'waiting'], ['cancel', 'cancelled']] as const) {
      const a = await call(url, 'POST', `/actions/${first.json.id}/${op}`, { token: secret });
      conforms('POST', `/actions/{id}/${op}`, a);
      if (op !== 'cancel') assert.strictEqual(a.json.status, op === 'pause' ? 'paused' : 'scheduled');
      else assert.strictEqual(a.json.status, status);
    }
    const del = await call(url, 'DELETE', '/actions/build', { token: secret });
    conforms('DELETE', '/actions/{id}', del);
    assert.strictEqual(del.json.deleted, add.json.id);
    const notes = await call(url, 'GET', '/notifications', { token: secret });
    conforms('GET', '/notifications', notes);
    assert.deepStrictEqual(notes.json.notifications, []);
  });

  it('lists flow runs, shows one with its steps, cancels and re-runs them, as the document says', async () => {
    const post = (body: unknown) => call(url, 'POST', '/actions', { token: secret, body: JSON.stringify(body) });
    assert.strictEqual((await post({ name: 'api-root', trigger: { kind: 'manual' }, run: { command: 'true' } })).status, 201);
    assert.strictEqual((await post({ name: 'api-flaky', trigger: { kind: 'after', after: 'api-root' }, run: { command: 'test -f ok' } })).status, 201);
    const last = await post({ name: 'api-last', trigger: { kind: 'after', after: ['api-root', 'api-flaky'] }, run: { command: 'true' } });
    assert.strictEqual(last.status, 201, last.text);
    await call(url, 'POST', '/actions/api-root/run', { token: secret });
    let flows: Answer | undefined;
    for (let i = 0; i < 200 && flows?.json.flows[0]?.status !== 'failed'; i++) {
      flows = await call(url, 'GET', '/flows', { token: secret });
      await sleep(20);
    }
    conforms('GET', '/flows', flows!);
    const id = flows!.json.flows[0].flowId as string;
    const one = await call(url, 'GET', `/flows/${id.slice(0, 8)}`, { token: secret });
    conforms('GET', '/flows/{id}', one);
    assert.deepStrictEqual(one.json.steps.map((s: { name: string; status: string; after: string[] }) => [s.name, s.status, s.after]), [
      ['api-root', 'succeeded', []],
      ['api-flaky', 'failed', ['api-root']],
      ['api-last', 'skipped', ['api-root', 'api-flaky']],
    ]);
    const cancelEnded = await call(url, 'POST', `/flows/${id}/cancel`, { token: secret });
    assert.strictEqual(cancelEnded.status, 422);
    conforms('POST', '/flows/{id}/cancel', cancelEnded);
    assert.match(cancelEnded.json.error, /already failed/);
    fs.writeFileSync(path.join(ws, 'ok'), '');
    const rerun = await call(url, 'POST', `/flows/${id}/rerun`, { token: secret });
    assert.strictEqual(rerun.status, 200, rerun.text);
    conforms('POST', '/flows/{id}/rerun', rerun);
    assert.strictEqual(rerun.json.attempt, 2);
    await waitFor(() => o.getFlow(id)?.status === 'succeeded', 10_000, 'the re-run');
    const missing = await call(url, 'GET', '/flows/00000000-0000-4000-8000-000000000000', { token: secret });
    assert.strictEqual(missing.status, 404);
    conforms('GET', '/flows/{id}', missing);
  });

  it('refuses with 401, 404, 405, 413, 415, 400 and 422 (naming the field), in the document\'s words, storing nothing', async () => {
    const journal = () => fs.statSync(sdlcPaths(ws).journal).size;
    const before = journal();
    const cases: { what: string; method: string; path: string; template: string; status: number; token?: string | null; body?: string; type?: string; error: RegExp; field?: string }[] = [
      { what: 'no token', method: 'GET', path: '/actions', template: '/actions', status: 401, token: null, error: /authentication required: send "Authorization: Bearer <secret>"/ },
      { what: 'a wrong token', method: 'GET', path: '/actions', template: '/actions', status: 401, token: 'guess', error: /not this folder's webhook secret/ },
      { what: 'no token on the feed', method: 'GET', path: '/events', template: '/events', status: 401, token: null, error: /Bearer/ },
      { what: 'an unknown action', method: 'GET', path: '/actions/nobody', template: '/actions/{id}', status: 404, error: /no action "nobody"; list them with GET \/actions/ },
      { what: 'an unknown run', method: 'GET', path: '/runs/nope', template: '/runs/{id}', status: 404, error: /no run nope/ },
      { what: 'an unknown path', method: 'GET', path: '/admin', template: '', status: 404, error: /described at GET \/openapi\.json/ },
      { what: 'an operation that is not one', method: 'POST', path: '/actions/nobody/constructor', template: '', status: 404, error: /nothing at \/actions\/nobody\/constructor/ },
      { what: 'a malformed cron', method: 'POST', path: '/actions', template: '/actions', status: 422, body: JSON.stringify({ trigger: { kind: 'cron', cron: '61 * * * *' }, run: { command: 'x' } }), error: /cron expression "61 \* \* \* \*" is invalid/, field: 'cron' },
      { what: 'an empty command', method: 'POST', path: '/actions', template: '/actions', status: 422, body: JSON.stringify({ trigger: { kind: 'manual' }, run: { command: ' ' } }), error: /command/, field: 'run' },
      { what: 'a notify that is not a URL', method: 'POST', path: '/actions', template: '/actions', status: 422, body: JSON.stringify({ trigger: { kind: 'manual' }, run: { command: 'x' }, policy: { notify: 'ftp://x' } }), error: /notify must be an http or https URL/, field: 'notify' },
      { what: 'a list instead of one action', method: 'POST', path: '/actions', template: '/actions', status: 422, body: '[]', error: /one action/, field: 'body' },
      { what: 'a body that is not JSON', method: 'POST', path: '/actions', template: '/actions', status: 400, body: '{"name": ', error: /the body is not JSON/, field: 'body' },
      { what: 'a body that is not declared JSON', method: 'POST', path: '/actions', template: '/actions', status: 415, body: '{}', type: 'text/plain', error: /Content-Type: application\/json/ },
      { what: 'a body over 64 KiB', method: 'POST', path: '/actions', template: '/actions', status: 413, body: JSON.stringify({ run: { command: 'x'.repeat(70_000) } }), error: /larger than the limit of 65536 bytes/ },
      { what: 'a bad status filter', method: 'GET', path: '/runs?status=done', template: '/runs', status: 422, error: /status must be one of running, succeeded, failed, cancelled/, field: 'status' },
      { what: 'a bad limit', method: 'GET', path: '/runs?limit=0', template: '/runs', status: 422, error: /limit must be a whole number from 1 to 1000/, field: 'limit' },
      { what: 'a bad Last-Event-ID', method: 'GET', path: '/events?since=abc', template: '/events', status: 422, error: /must be an event seq/, field: 'since' },
      { what: 'PUT on /actions', method: 'PUT', path: '/actions', template: '', status: 405, error: /PUT is not allowed on \/actions; use GET or POST/ },
      { what: 'a CORS preflight', method: 'OPTIONS', path: '/actions', template: '', status: 405, error: /OPTIONS is not allowed/ },
    ];
    for (const c of cases) {
      const a = await call(url, c.method, c.path, { token: c.token === undefined ? secret : c.token, body: c.body, type: c.type, headers: c.method === 'OPTIONS' ? { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } : {} });
      assert.strictEqual(a.status, c.status, `${c.what}: ${a.text}`);
      assert.match(a.json.error, c.error, c.what);
      assert.strictEqual(a.json.field, c.field, `${c.what} names the field`);
      assert.strictEqual(a.headers['access-control-allow-origin'], undefined, 'no CORS');
      if (c.status === 401) assert.match(String(a.headers['www-authenticate']), /^Bearer/);
      if (c.status === 405) assert.ok(a.headers.allow, 'says what is allowed');
      if (c.template) conforms(c.method, c.template, a);
    }
    // The API says what `add` says.
    const viaCli = cli(['add', '--workspace', tmpWorkspace(), '--cron', '61 * * * *', '--run', 'x']); // (this process's owner cannot answer a blocking call)
    assert.strictEqual(viaCli.code, 2);
    assert.match(viaCli.stderr, /cron expression "61 \* \* \* \*" is invalid/);
    assert.strictEqual(journal(), before, 'no refusal stored anything');
  });
});

describe('the change feed: GET /events (Server-Sent Events)', () => {
  it('delivers every event exactly once across a client reconnect, and sends heartbeats', async () => {
    const ws = tmpWorkspace();
    const o = await engine(ws, { devTriggers: false, actionsFile: false, api: { stream: { heartbeatMs: 100 } } });
    try {
      const { url, secret } = served(o);
      const c = new SseClient(url, secret);
      await c.connect();
      assert.strictEqual(c.status, 200);
      await c.until(() => c.lastId !== undefined, 5000, 'the current seq');
      const start = Number(c.lastId);
      assert.strictEqual(start, o.store.lastSeq(), 'a client with no Last-Event-ID is told where the stream stands');
      for (let i = 0; i < 10; i++) await o.add({ name: `a${i}`, trigger: { kind: 'manual' }, run: { command: 'true' } });
      await c.until(() => Number(c.lastId) === o.store.lastSeq(), 5000, 'the first ten');
      c.close();
      for (let i = 10; i < 25; i++) await o.add({ name: `a${i}`, trigger: { kind: 'manual' }, run: { command: 'true' } });
      await c.connect(c.lastId);
      for (let i = 25; i < 30; i++) await o.add({ name: `a${i}`, trigger: { kind: 'manual' }, run: { command: 'true' } });
      await c.until(() => Number(c.lastId) === o.store.lastSeq(), 5000, 'all of them');
      assertContiguous(c.events().map((e) => e.seq), start + 1, o.store.lastSeq());
      const raw = await rawStream(url, secret, 350);
      assert.match(raw, /: heartbeat\n\n/, 'heartbeats keep an idle stream alive');
      c.close();
    } finally {
      await o.stop();
    }
    await verifyClean(ws);
  });

  it('delivers every event exactly once across a SIGKILL of the owner and a new owner', async function () {
    this.timeout(60_000);
    const ws = tmpWorkspace();
    const { start, addSome } = await cliOwners(ws, 'm');
    let owner = start();
    assert.ok(await untilOwner(ws, owner), 'the first owner runs');
    await waitFor(() => readWebhookInfo(sdlcPaths(ws))?.pid === owner.pid, 5000, 'its listener');
    const { url, secret } = readWebhookInfo(sdlcPaths(ws))!;
    const c = new SseClient(url!, secret);
    await c.connect('0');
    addSome(0, 5);
    const lastSeq = () => readFolder(ws, (db) => db.store.lastSeq());
    await c.until(() => c.events().some((e) => e.type === 'task.accepted' && c.events().filter((x) => x.type === 'task.accepted').length === 5), 10_000, 'five actions');
    owner.kill('SIGKILL');
    await exited(owner);
    await c.until(() => c.ended, 5000, 'the stream to end with its owner');
    addSome(5, 3); // applied while nobody serves the feed
    owner = start();
    try {
      assert.ok(await untilOwner(ws, owner, 15_000), 'a new owner takes the folder');
      await waitFor(() => readWebhookInfo(sdlcPaths(ws))?.pid === owner.pid, 5000, 'its listener');
      const info = readWebhookInfo(sdlcPaths(ws))!;
      assert.strictEqual(info.url, url, 'the same port, so the URL handed out stays valid');
      const c2 = new SseClient(info.url!, info.secret);
      await c2.connect(c.lastId);
      addSome(8, 2);
      await c2.until(() => c2.frames.some((f) => f.data.includes('"name":"m9"')), 10_000, 'the last action added');
      const want = await lastSeq();
      await c2.until(() => Number(c2.lastId) === want, 10_000, `everything after the restart (${want})`);
      await c2.until(() => Number(c2.lastId) === want, 10_000, 'everything after the restart');
      assertContiguous([...c.events(), ...c2.events()].map((e) => e.seq), 1, want);
      assert.strictEqual([...c.events(), ...c2.events()].filter((e) => e.type === 'task.accepted').length, 10);
      c2.close();
    } finally {
      owner.kill('SIGTERM');
      await exited(owner);
    }
    await verifyClean(ws);
  });

  it('a standard EventSource client (the eventsource package) follows the feed across an owner\'s SIGKILL by itself, each event once', async function () {
    this.timeout(60_000);
    const ws = tmpWorkspace();
    const { start, addSome } = await cliOwners(ws, 'e');
    let owner = start();
    let es: EventSource | undefined;
    try {
      assert.ok(await untilOwner(ws, owner), 'the owner runs');
      await waitFor(() => readWebhookInfo(sdlcPaths(ws))?.pid === owner.pid, 5000, 'its listener');
      const { url, secret } = readWebhookInfo(sdlcPaths(ws))!;
      const got: { id: string; seq: number; type: string }[] = [];
      let opened = 0;
      es = new EventSource(`${url}/events?since=0`, {
        fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), Authorization: `Bearer ${secret}` } }),
      });
      es.onopen = () => opened++;
      es.onmessage = (e) => {
        const data = JSON.parse(e.data);
        got.push({ id: e.lastEventId, seq: data.seq, type: data.type });
      };
      addSome(0, 5);
      await waitFor(() => got.filter((g) => g.type === 'task.accepted').length === 5, 10_000, 'five actions');
      owner.kill('SIGKILL');
      await exited(owner);
      addSome(5, 3); // while nobody serves the feed; the client keeps trying
      owner = start();
      assert.ok(await untilOwner(ws, owner, 15_000), 'a new owner');
      addSome(8, 2);
      await waitFor(() => got.some((g) => g.type === 'task.accepted' && got.filter((x) => x.type === 'task.accepted').length === 10), 20_000, 'all ten, through the reconnect');
      const last = await readFolder(ws, (db) => db.store.lastSeq());
      await waitFor(() => got[got.length - 1].seq === last, 10_000, 'the rest');
      assert.ok(opened >= 2, 'it reconnected by itself');
      assert.ok(got.every((g) => g.id === String(g.seq)), 'the event id is the seq');
      assertContiguous(got.map((g) => g.seq), 1, last);
    } finally {
      es?.close();
      owner.kill('SIGTERM');
      await exited(owner);
    }
    await verifyClean(ws);
  });

  it('a seq that retention pruned (or that this log never had) gets a reset with the current state, then the live stream', async () => {
    const ws = tmpWorkspace();
    const o = await engine(ws, { devTriggers: false, actionsFile: false, retention: { maxEvents: 10 }, pruneEveryMs: 20 });
    try {
      for (let i = 0; i < 30; i++) await o.add({ name: `p${i}`, trigger: { kind: 'manual' }, run: { command: 'true' } });
      await waitFor(() => (o.store.eventsHead(1)[0]?.seq ?? 0) > 5, 10_000, 'retention to prune the oldest events');
      const { url, secret } = served(o);
      const c = new SseClient(url, secret);
      await c.connect('1');
      await c.until(() => c.frames.length >= 1, 5000, 'the reset');
      const [reset] = c.frames;
      assert.strictEqual(reset.event, 'reset');
      const data = JSON.parse(reset.data) as { seq: number; reason: string; state: { actions: unknown[] } };
      assert.match(data.reason, /events after 1 were removed by retention/);
      assert.strictEqual(Number(reset.id), data.seq);
      assert.strictEqual(data.state.actions.length, 30, 'the state to start over from');
      const ajvReset = ajv.compile({ $ref: 'openapi#/components/schemas/Reset' });
      assert.ok(ajvReset(data), ajv.errorsText(ajvReset.errors));
      await o.add({ name: 'after-reset', trigger: { kind: 'manual' }, run: { command: 'true' } });
      await c.until(() => c.events().length > 0, 5000, 'the live stream');
      assert.ok(c.events()[0].seq > data.seq, 'then the live stream, from after the reset');
      c.close();
      const future = new SseClient(url, secret);
      await future.connect(String(o.store.lastSeq() + 100));
      await future.until(() => future.frames.length >= 1, 5000, 'the reset');
      assert.strictEqual(future.frames[0].event, 'reset');
      assert.match(JSON.parse(future.frames[0].data).reason, /no such seq/);
      future.close();
      // The CLI's follower says the same.
      const follow = spawn(process.execPath, [CLI, 'events', '--workspace', ws, '--follow', '--json', '--since', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      follow.stdout.on('data', (d: Buffer) => (out += d));
      await waitFor(() => out.includes('\n'), 10_000, 'the follower\'s first line');
      follow.kill('SIGINT');
      await exited(follow);
      const line = JSON.parse(out.split('\n')[0]);
      assert.strictEqual(line.type, 'reset');
      assert.strictEqual(line.state.actions.length, 31);
    } finally {
      await o.stop();
    }
    await verifyClean(ws);
  });

  it('a client that stops reading is cut off and told where to resume, while the others get everything', async function () {
    this.timeout(60_000);
    const ws = tmpWorkspace();
    const o = await engine(ws, { devTriggers: false, actionsFile: false, api: { stream: { maxBufferBytes: 32 * 1024, cutoffGraceMs: 60_000 } } });
    try {
      const { url, secret } = served(o);
      const reader = new SseClient(url, secret);
      await reader.connect();
      await reader.until(() => reader.lastId !== undefined, 5000, 'the reader to start');
      const from = Number(reader.lastId);
      // A client that sends its request and then never reads.
      const slow = net.connect(Number(new URL(url).port), '127.0.0.1');
      await new Promise<void>((r) => slow.once('connect', () => r()));
      slow.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${secret}\r\n\r\n`);
      const received: Buffer[] = [];
      slow.on('data', (d: Buffer) => received.push(d));
      await sleep(200);
      slow.pause();
      // Big events (long glob lists), until the kernel's buffers are full and ours passes the bound.
      const globs = Array.from({ length: 150 }, (_, i) => `packages/some-long-package-name-${i}/src/**/*.{ts,tsx,js,jsx,json,css}`);
      for (let batch = 0; batch < 60 && o.api!.stream.cutOff === 0; batch++) {
        await o.add(Array.from({ length: 50 }, (_, i) => ({ name: `big-${batch}-${i}`, trigger: { kind: 'change' as const, paths: globs }, run: { command: 'true' } })));
        await sleep(5); // a reader in another process reads meanwhile; this one shares our event loop
      }
      assert.strictEqual(o.api!.stream.cutOff, 1, 'the slow client was cut off');
      assert.strictEqual(o.api!.stream.size, 1, 'the reader is still served');
      await reader.until(() => Number(reader.lastId) === o.store.lastSeq(), 20_000, 'the reader to get everything');
      assertContiguous(reader.events().map((e) => e.seq), from + 1, o.store.lastSeq());
      // Reading at last, the slow client finds every event it was sent, in order, then where to resume.
      slow.resume();
      await new Promise<void>((r) => slow.once('end', () => r()));
      const text = Buffer.concat(received).toString();
      const body = text.slice(text.indexOf('\r\n\r\n') + 4);
      const ids = [...body.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
      const cutoff = /event: cutoff\ndata: (.*)\n/.exec(body);
      assert.ok(cutoff, 'the last frame says it was cut off');
      const { resumeFrom, reason } = JSON.parse(cutoff[1]);
      assert.strictEqual(resumeFrom, ids[ids.length - 1], 'it resumes after the last event it was sent');
      assert.match(reason, /read too slowly/);
      assertContiguous(ids.slice(1), from + 1, resumeFrom);
      slow.destroy();
      reader.close();
    } finally {
      await o.stop();
    }
    await verifyClean(ws);
  });
});

describe('sdlc-orchestrator events --follow', () => {
  it('prints each event once as it is committed; started again with --since it misses nothing and repeats nothing, across an owner restart', async function () {
    this.timeout(60_000);
    const ws = tmpWorkspace();
    let o = await engine(ws, { devTriggers: false, actionsFile: false });
    const follow = (since: number) => {
      const child = spawn(process.execPath, [CLI, 'events', '--workspace', ws, '--follow', '--json', '--since', String(since)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const seqs: number[] = [];
      let buf = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          seqs.push(JSON.parse(buf.slice(0, nl)).seq);
          buf = buf.slice(nl + 1);
        }
      });
      return { child, seqs };
    };
    const add = async (from: number, n: number) => {
      for (let i = from; i < from + n; i++) await o.add({ name: `f${i}`, trigger: { kind: 'manual' }, run: { command: 'true' } });
    };
    try {
      await add(0, 3);
      const first = follow(0);
      await waitFor(() => first.seqs[first.seqs.length - 1] === o.store.lastSeq(), 10_000, 'the history so far');
      await add(3, 5);
      await waitFor(() => first.seqs[first.seqs.length - 1] === o.store.lastSeq(), 10_000, 'live events');
      first.child.kill('SIGINT');
      await exited(first.child);
      assert.strictEqual(first.child.exitCode, 0, 'interrupted, it exits 0');
      const resumeAt = first.seqs[first.seqs.length - 1];
      await add(8, 4); // while nobody follows
      await o.stop(); // the owner restarts
      o = await engine(ws, { devTriggers: false, actionsFile: false });
      const second = follow(resumeAt);
      await add(12, 4);
      await waitFor(() => second.seqs[second.seqs.length - 1] === o.store.lastSeq(), 10_000, 'the rest');
      second.child.kill('SIGTERM');
      await exited(second.child);
      assertContiguous([...first.seqs, ...second.seqs], 1, o.store.lastSeq());
    } finally {
      await o.stop();
    }
    await verifyClean(ws);
  });
});

/** The stream's raw text for a while (to see comments, which a client drops). */
function rawStream(url: string, secret: string, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const req = http.get(new URL('/events', url), { headers: { Authorization: `Bearer ${secret}` } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      setTimeout(() => {
        req.destroy();
        resolve(text);
      }, ms);
    });
    req.on('error', reject);
  });
}

