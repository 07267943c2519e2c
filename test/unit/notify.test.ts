// Notifications through the durable outbox, with real HTTP on loopback: what is announced and
// in which form, secrets kept out of the log and the UI, retries with the same idempotency key
// across refusals, a receiver that is down and owners that are SIGKILLed (delivered exactly
// once to the application, at least once on the wire), and nothing sent for an end not committed.
import * as assert from 'assert';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { messageBody, runLink, type RunSummaryMessage } from '../../src/core/notify/message';
import { inferFormat, redactTarget, resolveTarget, validateNotify } from '../../src/core/notify/notifySpec';
import { parseActionsFile } from '../../src/core/definitions/actionsFile';
import { sdlcPaths } from '../../src/core/paths';

import { cli, cliJson, engine, exited, readFolder, sleep, spawnCli, tmpWorkspace, untilOwner, verifyClean, waitFor } from './helpers';

interface Received {
  key: string;
  body: Record<string, unknown>;
  status: number;
}

/** A receiver as an application would write one: it keeps the first body per Idempotency-Key. */
class Receiver {
  readonly wire: Received[] = [];
  readonly app = new Map<string, Record<string, unknown>>();
  /** What the next requests get: a status, or a function that decides. */
  answer: number | ((r: Received) => Promise<number>) = 200;
  private server: http.Server | undefined;
  port = 0;

  async start(port = 0): Promise<this> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const r: Received = { key: String(req.headers['idempotency-key'] ?? ''), body: JSON.parse(Buffer.concat(chunks).toString()), status: 0 };
        r.status = typeof this.answer === 'number' ? this.answer : await this.answer(r);
        this.wire.push(r);
        if (r.status < 300 && !this.app.has(r.key)) this.app.set(r.key, r.body);
        res.writeHead(r.status).end(r.status < 300 ? 'ok' : 'not now');
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  url(path = '/notify/s3cr3t-path'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

const message: RunSummaryMessage = {
  folder: '/home/me/project',
  action: { id: 'a1', name: 'nightly tests' },
  run: { id: '0123456789abcdef', status: 'failed', exitCode: 2, attempt: 2, durationMs: 83_000, reason: 'exit code 2', cause: 'schedule' },
  output: 'FAIL src/a.test.ts\n  expected 1, got 2',
  endedAt: '2026-11-30T03:00:00.000Z',
  link: runLink('/home/me/project', '0123456789abcdef'),
};

describe('notifications: what is announced, and how', () => {
  it('takes a URL or $NAME, says which form by the host, and shows no secret', () => {
    assert.deepStrictEqual(validateNotify({ notify: 'https://hooks.slack.com/services/T0/B0/XyZ' }), { url: 'https://hooks.slack.com/services/T0/B0/XyZ', on: 'failure', format: 'slack' });
    assert.strictEqual(inferFormat('https://discord.com/api/webhooks/1/tok'), 'discord');
    assert.strictEqual(inferFormat('https://example.com/hook'), 'json');
    assert.deepStrictEqual(validateNotify({ notify: '$TEAM_HOOK', notifyOn: 'always' }), { url: '$TEAM_HOOK', on: 'always', format: 'json' });
    assert.strictEqual(validateNotify({ notify: 'off' }), undefined);
    assert.throws(() => validateNotify({ notify: 'hooks.slack.com/x' }), /notify must be an http\(s\) URL or \$NAME/);
    assert.throws(() => validateNotify({ notify: 'https://x.example', notifyOn: 'sometimes' }), /notify-on must be one of failure, success, always/);
    assert.throws(() => validateNotify({ notifyOn: 'always' }), /notify-on and notify-format need notify/);
    assert.strictEqual(redactTarget('https://hooks.slack.com/services/T0/B0/XyZ'), 'https://hooks.slack.com/…');
    assert.strictEqual(redactTarget('https://user:pw@example.com/'), 'https://example.com/…');
    assert.strictEqual(redactTarget('https://example.com/?token=abc'), 'https://example.com/…');
    assert.strictEqual(redactTarget('$TEAM_HOOK'), '$TEAM_HOOK');
    assert.deepStrictEqual(resolveTarget('${TEAM_HOOK}', { TEAM_HOOK: 'https://example.com/h' }), { url: 'https://example.com/h' });
    assert.match((resolveTarget('$TEAM_HOOK', {}) as { error: string }).error, /TEAM_HOOK is not set/);
  });

  it('builds the plain JSON, Slack and Discord forms with the run, the output\'s last lines and a link that opens it', () => {
    const json = messageBody(message, 'json') as Record<string, unknown>;
    assert.strictEqual(json.type, 'run.ended');
    assert.deepStrictEqual((json.run as { exitCode: number }).exitCode, 2);
    assert.match(String(json.link), /^vscode:\/\/sdlc-orchestrator\.sdlc-orchestrator\/run\?folder=%2Fhome%2Fme%2Fproject&run=0123456789abcdef$/);
    const slack = messageBody(message, 'slack') as { text: string };
    assert.match(slack.text, /^❌ nightly tests failed \(exit code 2, 1m23s, attempt 2\)\nexit code 2\n<vscode:\/\/[^|]+\|Open run 01234567 in VS Code>/);
    assert.match(slack.text, /```\nFAIL src\/a\.test\.ts\n {2}expected 1, got 2\n```$/);
    const long = messageBody({ ...message, output: 'x'.repeat(5000) }, 'discord') as { content: string; allowed_mentions: unknown };
    assert.ok(long.content.length <= 2000, 'Discord takes 2,000 characters');
    assert.deepStrictEqual(long.allowed_mentions, { parse: [] }, 'output cannot ping anyone');
  });

  it('the actions file takes notify, notify-on and notify-format, and says where one is wrong', () => {
    const ok = parseActionsFile('actions:\n  test:\n    run: npm test\n    manual: true\n    notify: $TEAM_HOOK\n    notify-on: always\n', 'actions.yaml', { now: Date.now() });
    assert.deepStrictEqual(ok.problems, []);
    assert.deepStrictEqual(ok.actions[0].input.policy, { notify: '$TEAM_HOOK', notifyOn: 'always' });
    const alone = parseActionsFile('actions:\n  test:\n    run: npm test\n    manual: true\n    notify-on: always\n', 'actions.yaml', { now: Date.now() });
    assert.strictEqual(`${alone.problems[0].line}:${alone.problems[0].column} ${alone.problems[0].message}`, '5:16 test: notify-on applies only to notify');
    const bad = parseActionsFile('actions:\n  test:\n    run: npm test\n    manual: true\n    notify: slack\n', 'actions.yaml', { now: Date.now() });
    assert.match(`${bad.problems[0].line}:${bad.problems[0].column} ${bad.problems[0].message}`, /^5:13 test: notify must be an http\(s\) URL or \$NAME/);
  });
});

describe('notifications: the outbox (real HTTP on loopback)', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await new Receiver().start();
  });
  afterEach(async () => {
    await receiver.stop();
  });

  it('announces final ends only, by notify-on, with the folder\'s default for actions that say nothing; secrets stay out of the log', async () => {
    const ws = tmpWorkspace();
    process.env.SDLC_TEST_HOOK = receiver.url('/env/secret-from-env');
    const o = await engine(ws, { devTriggers: false, actionsFile: false, notify: { url: receiver.url('/default/secret-default'), on: 'always', format: 'json' }, outbox: { backoffMs: 50 } });
    try {
      const add = async (name: string, command: string, policy: Record<string, unknown>) => (await o.add({ name, trigger: { kind: 'manual' }, run: { command }, policy })).actions[0];
      const flaky = await add('flaky', 'exit 3', { notify: receiver.url(), maxAttempts: 2, backoff: '10ms' });
      const fine = await add('fine', 'echo fine', { notify: receiver.url() }); // on failure only: nothing
      const viaEnv = await add('via-env', 'echo via env', { notify: '$SDLC_TEST_HOOK', notifyOn: 'success' });
      const byDefault = await add('by-default', 'echo default', {});
      const quiet = await add('quiet', 'exit 1', { notify: 'off' });
      for (const a of [flaky, fine, viaEnv, byDefault, quiet]) await o.runNow(a.id);
      await waitFor(() => o.store.notifications(10).filter((n) => n.status === 'sent').length === 3 && o.listActions().every((a) => a.running === 0 && a.pending === 0), 15_000, 'three notifications sent');
      await sleep(200);
      const names = new Map(receiver.wire.map((r) => [(r.body.action as { name: string }).name, r] as const));
      assert.deepStrictEqual([...names.keys()].sort(), ['by-default', 'flaky', 'via-env'], 'fine succeeded (failure only), quiet is off');
      assert.strictEqual(receiver.wire.length, 3, 'the retried attempt of flaky was not announced, only its last');
      const f = names.get('flaky')!.body as { run: { status: string; exitCode: number; attempt: number }; output: string };
      assert.deepStrictEqual([f.run.status, f.run.exitCode, f.run.attempt], ['failed', 3, 2]);
      assert.strictEqual(names.get('via-env')!.body.output, 'via env', 'the output\'s last lines');
      const events = JSON.stringify(o.store.eventsSince(0, 10_000));
      for (const secret of ['s3cr3t-path', 'secret-from-env', 'secret-default']) {
        assert.ok(!events.includes(secret), `the lifecycle log does not carry ${secret}`);
        assert.ok(!cli(['list', '--workspace', ws, '--json']).stdout.includes(secret), 'nor does list');
        assert.ok(!cli(['notifications', '--workspace', ws]).stdout.includes(secret), 'nor the outbox listing');
      }
      const listed = cliJson<{ status: string; target: string; attempts: number }[]>(['notifications', '--workspace', ws]);
      assert.deepStrictEqual(listed.map((n) => n.status), ['sent', 'sent', 'sent']);
      assert.ok(listed.some((n) => n.target === '$SDLC_TEST_HOOK'));
    } finally {
      await o.stop();
      delete process.env.SDLC_TEST_HOOK;
    }
    await verifyClean(ws);
  });

  it('a receiver that refuses, is down across a SIGKILL, and accepts while its sender is killed gets the notification once (and more than once on the wire)', async function () {
    this.timeout(90_000);
    const ws = tmpWorkspace();
    const port = receiver.port;
    let owner: ChildProcess = spawnCli(['run', '--workspace', ws, '--tick', '50', '--lease-stale', '2000', '--quiet']);
    const restart = async () => {
      owner = spawnCli(['run', '--workspace', ws, '--tick', '50', '--lease-stale', '2000', '--quiet']);
      assert.ok(await untilOwner(ws, owner, 20_000), 'a new owner takes the folder');
    };
    try {
      assert.ok(await untilOwner(ws, owner), 'the owner runs');
      receiver.answer = 503;
      assert.strictEqual(cli(['add', '--workspace', ws, '--name', 'deploy', '--in', '200ms', '--run', 'echo step one; exit 4', '--notify', receiver.url()]).code, 0);
      await waitFor(() => receiver.wire.length >= 2, 20_000, 'two refused attempts');
      await receiver.stop(); // down
      owner.kill('SIGKILL');
      await exited(owner);
      await restart(); // its attempts meet a closed port
      await sleep(1500);
      // Up again: it accepts the next attempt, but that attempt's sender dies before it hears so.
      receiver = await new Receiver().start(port);
      let killed = false;
      receiver.answer = async () => {
        if (!killed) {
          killed = true;
          owner.kill('SIGKILL');
          await exited(owner);
        }
        return 200;
      };
      await waitFor(() => receiver.app.size === 1, 30_000, 'an attempt to reach the receiver again');
      assert.strictEqual(receiver.app.size, 1, 'the application has it');
      await restart(); // sends it again: its commit of the attempt never happened
      await waitFor(() => receiver.wire.length >= 2, 30_000, 'the attempt sent again');
      await waitFor(() => cliJson<{ status: string }[]>(['notifications', '--workspace', ws])[0]?.status === 'sent', 10_000, 'the outbox to record it sent');
      const keys = new Set(receiver.wire.map((r) => r.key));
      assert.strictEqual(keys.size, 1, 'every attempt carried the same Idempotency-Key');
      assert.strictEqual(receiver.app.size, 1, 'delivered to the application exactly once');
      assert.ok(receiver.wire.filter((r) => r.status === 200).length >= 2, 'and at least once (here: twice) on the wire');
      const body = [...receiver.app.values()][0] as { action: { name: string }; run: { status: string; exitCode: number }; output: string };
      assert.deepStrictEqual([body.action.name, body.run.status, body.run.exitCode, body.output], ['deploy', 'failed', 4, 'step one']);
      const [n] = cliJson<{ status: string; attempts: number; id: string }[]>(['notifications', '--workspace', ws]);
      assert.strictEqual(n.id, [...keys][0]);
      const attempts = await readFolder(ws, (db) => db.store.eventsSince(0, 10_000).filter((e) => e.type === 'notification.attempted'));
      assert.strictEqual(n.attempts, attempts.length, 'each committed attempt is an event');
      assert.ok(attempts.length >= 3, `refused, failed to connect, then accepted: ${attempts.map((e) => e.data.error ?? e.data.httpStatus).join(' / ')}`);
    } finally {
      owner.kill('SIGTERM');
      await exited(owner);
    }
    await verifyClean(ws);
  });

  it('sends nothing for a run whose end was not committed, and once when it is', async function () {
    this.timeout(60_000);
    const ws = tmpWorkspace();
    let owner: ChildProcess = spawnCli(['run', '--workspace', ws, '--tick', '50', '--lease-stale', '2000', '--quiet']);
    try {
      assert.ok(await untilOwner(ws, owner), 'the owner runs');
      assert.strictEqual(cli(['add', '--workspace', ws, '--name', 'long', '--in', '100ms', '--run', 'echo started; sleep 2', '--notify', receiver.url(), '--notify-on', 'always']).code, 0);
      await waitFor(() => fs.existsSync(sdlcPaths(ws).runs) && fs.readdirSync(sdlcPaths(ws).runs).some((f) => f.endsWith('.pid')), 10_000, 'the run to start');
      owner.kill('SIGKILL');
      await exited(owner);
      await sleep(2500); // the command ends while nobody owns the folder
      assert.strictEqual(receiver.wire.length, 0, 'nothing is sent for an end nobody recorded');
      owner = spawnCli(['run', '--workspace', ws, '--tick', '50', '--lease-stale', '2000', '--quiet']);
      assert.ok(await untilOwner(ws, owner, 20_000), 'a new owner');
      await waitFor(() => receiver.wire.length === 1, 20_000, 'the notification of the recorded end');
      await sleep(300);
      assert.strictEqual(receiver.wire.length, 1);
      const body = receiver.wire[0].body as { run: { status: string; exitCode: number } };
      assert.deepStrictEqual([body.run.status, body.run.exitCode], ['succeeded', 0], 'as the run really ended');
    } finally {
      owner.kill('SIGTERM');
      await exited(owner);
    }
    await verifyClean(ws);
  });
});


