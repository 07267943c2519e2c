// The command-line program as a user runs it: output formats, and bad input that is refused
// with a message naming the bad value while the database stays byte-for-byte unchanged.
import * as assert from 'assert';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { sdlcPaths } from '../../src/core/paths';
import { cli, cliJson, tmpWorkspace } from './helpers';

function fingerprint(ws: string): string {
  const p = sdlcPaths(ws);
  const h = crypto.createHash('sha256');
  for (const f of [p.db, p.journal]) h.update(fs.existsSync(f) ? fs.readFileSync(f) : Buffer.alloc(0));
  h.update(fs.readdirSync(p.inbox).join(','));
  return h.digest('hex');
}

describe('sdlc-orchestrator CLI', function () {
  this.timeout(60_000);

  it('adds, lists, runs until idle, and reports history and events as JSON', () => {
    const ws = tmpWorkspace();
    const a = cliJson<Record<string, unknown>>(['add', '--workspace', ws, '--name', 'greet', '--in', '200ms', '--run', 'echo hello']);
    for (const k of ['id', 'name', 'status', 'dueAt']) assert.ok(k in a, `add --json lacks ${k}`);
    assert.strictEqual(a.status, 'scheduled');
    assert.ok(!Number.isNaN(Date.parse(a.dueAt as string)));
    const list = cliJson<{ id: string }[]>(['list', '--workspace', ws]);
    assert.deepStrictEqual(list.map((x) => x.id), [a.id]);
    const run = cli(['run', '--workspace', ws, '--tick', '50', '--exit-when-idle']);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.match(run.stderr, /task\.completed/);
    const [h] = cliJson<Record<string, unknown>[]>(['history', '--workspace', ws]);
    for (const k of ['runId', 'actionId', 'name', 'status', 'exitCode', 'startedAt', 'endedAt', 'attempt']) assert.ok(k in h, `history lacks ${k}`);
    assert.strictEqual(h.status, 'succeeded');
    assert.strictEqual(h.exitCode, 0);
    assert.match(String(h.outputTail), /hello/);
    const events = cliJson<{ seq: number; ts: string; type: string; actionId: string | null }[]>(['events', '--workspace', ws]);
    assert.deepStrictEqual(events.filter((e) => e.actionId === a.id).map((e) => e.type), ['task.accepted', 'task.started', 'task.completed']);
    const since = events[1].seq;
    assert.deepStrictEqual(cliJson<{ seq: number }[]>(['events', '--workspace', ws, '--since', String(since)]).map((e) => e.seq), events.slice(2).map((e) => e.seq));
    assert.deepStrictEqual(cliJson(['list', '--workspace', ws]), []);
  });

  it('cancels by id and by name; a second add with the same --key gives the same action', () => {
    const ws = tmpWorkspace();
    const a = cliJson<{ id: string }>(['add', '--workspace', ws, '--name', 'nightly', '--cron', '0 3 * * *', '--tz', 'UTC', '--run', 'true', '--key', 'k1']);
    const again = cliJson<{ id: string; created: boolean }>(['add', '--workspace', ws, '--name', 'nightly', '--cron', '0 3 * * *', '--run', 'true', '--key', 'k1']);
    assert.strictEqual(again.id, a.id);
    assert.strictEqual(again.created, false);
    assert.strictEqual(cli(['cancel', '--workspace', ws, 'nightly']).code, 0);
    assert.deepStrictEqual(cliJson(['list', '--workspace', ws]), []);
    const r = cli(['cancel', '--workspace', ws, a.id]);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /already cancelled/);
  });

  it('refuses bad input with a message naming the value, and leaves the database unchanged', () => {
    const ws = tmpWorkspace();
    const up = cliJson<{ id: string }>(['add', '--workspace', ws, '--name', 'upstream', '--manual', '--run', 'true']);
    fs.writeFileSync(
      path.join(ws, 'cycle.json'),
      JSON.stringify([
        { name: 'x', trigger: { kind: 'after', after: 'y' }, run: { command: 'true' } },
        { name: 'y', trigger: { kind: 'after', after: 'x' }, run: { command: 'true' } },
      ]),
    );
    const cases: [string[], RegExp][] = [
      [['--cron', '61 * * * *'], /cron expression "61 \* \* \* \*" is invalid/],
      [['--cron', '* * *'], /has 3 fields/],
      [['--cron', '0 9 * * *', '--tz', 'Nowhere/City'], /time zone "Nowhere\/City" is unknown/],
      [['--at', '2020-01-01T00:00:00Z'], /2020-01-01T00:00:00Z is in the past/],
      [['--at', 'next tuesday'], /"next tuesday" is not an ISO 8601 time/],
      [['--in', '10 minutes'], /"10 minutes" is not a duration/],
      [['--every', '0s'], /longer than zero/],
      [['--in', '1s', '--timeout', 'forever'], /timeout "forever"/],
      [['--in', '1s', '--max-attempts', '0'], /max-attempts must be a whole number from 1 to 100/],
      [['--after', 'no-such-action'], /no action "no-such-action"/],
      [['--webhook', 'bad name!'], /webhook name "bad name!"/],
      [[], /say when to run/],
      [['--in', '1s', '--manual'], /exactly one of/],
    ];
    for (const [args, message] of cases) {
      const before = fingerprint(ws);
      const r = cli(['add', '--workspace', ws, '--name', 'bad', '--run', 'true', ...args]);
      assert.strictEqual(r.code, 2, `${args.join(' ')}: exit ${r.code}`);
      assert.match(r.stderr, message, `${args.join(' ')}`);
      assert.strictEqual(fingerprint(ws), before, `${args.join(' ')} changed the database`);
    }
    const emptyCommand: [string[], RegExp][] = [
      [['add', '--workspace', ws, '--name', 'e', '--in', '1s', '--run', '  '], /command is empty/],
      [['apply', '--workspace', ws, '--file', path.join(ws, 'cycle.json')], /dependency cycle: (x → y → x|y → x → y)/],
      [['cancel', '--workspace', ws, 'nope'], /no action with id or name "nope"/],
      [['frobnicate', '--workspace', ws], /unknown command "frobnicate"/],
      [['list', '--workspace', path.join(ws, 'missing')], /workspace folder .*missing does not exist/],
    ];
    for (const [args, message] of emptyCommand) {
      const before = fingerprint(ws);
      const r = cli(args);
      assert.strictEqual(r.code, 2, `${args.join(' ')}: exit ${r.code} ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.strictEqual(fingerprint(ws), before, `${args.join(' ')} changed the database`);
    }
    assert.deepStrictEqual(cliJson<{ id: string }[]>(['list', '--workspace', ws]).map((a) => a.id), [up.id]);
  });
});
