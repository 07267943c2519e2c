// The edges where work used to be lost or repeated: contended requests, replies lost in a crash,
// a damaged journal, a clock stepped back, a damaged webhook.json, ambiguous names. Each test
// here failed on the engine before these fixes.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { postRequest, takeReply } from '../../src/core/inbox';
import { sdlcPaths } from '../../src/core/paths';
import { readWebhookInfo } from '../../src/core/webhookFiles';
import { CLI, cli, cliJson, engine, lines, sleep, spawnCli, tmpWorkspace, verifyClean, waitFor } from './helpers';

interface Timed {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the real CLI without blocking the test's event loop, so many can run at once. */
function cliAsync(args: string[]): Promise<Timed> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

async function inBatches<T>(n: number, width: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += width) out.push(...(await Promise.all(Array.from({ length: Math.min(width, n - i) }, (_, k) => fn(i + k)))));
  return out;
}


describe('contended requests get an answer a script can act on', function () {
  this.timeout(120_000);

  it('50 parallel adds with no orchestrator running: each exits 0 once its action is stored, all stored exactly once', async () => {
    const ws = tmpWorkspace();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => cliAsync(['add', '--workspace', ws, '--name', `job-${i}`, '--at', new Date(Date.now() + 3_600_000).toISOString(), '--run', 'true', '--json'])),
    );
    for (const r of results) assert.strictEqual(r.code, 0, r.stderr);
    const ids = results.map((r) => (JSON.parse(r.stdout) as { id: string }).id);
    const listed = cliJson<{ id: string; name: string }[]>(['list', '--workspace', ws]);
    assert.deepStrictEqual(listed.map((a) => a.id).sort(), [...ids].sort());
    assert.strictEqual(new Set(listed.map((a) => a.name)).size, 50);
    assert.deepStrictEqual(fs.readdirSync(sdlcPaths(ws).inbox).filter((f) => f !== 'replies'), [], 'requests left in the inbox');
    await verifyClean(ws);
    const ms = results.map((r) => r.ms).sort((a, b) => a - b);
    console.log(`      50 parallel adds: median ${ms[25]} ms, slowest ${ms[49]} ms (node start-up included)`);
  });

  it('the same 50 with an orchestrator running: each is applied by it and answered', async () => {
    const ws = tmpWorkspace();
    const owner = spawnCli(['run', '--workspace', ws, '--tick', '500', '--quiet']);
    try {
      await waitFor(() => fs.existsSync(sdlcPaths(ws).owner), 8000, 'the orchestrator to start');
      const results = await inBatches(50, 25, (i) => cliAsync(['add', '--workspace', ws, '--name', `job-${i}`, '--in', '1h', '--run', 'true', '--json']));
      for (const r of results) assert.strictEqual(r.code, 0, r.stderr);
      assert.strictEqual(cliJson<unknown[]>(['list', '--workspace', ws]).length, 50);
    } finally {
      owner.kill('SIGTERM');
      await new Promise((r) => owner.once('exit', r));
    }
    await verifyClean(ws);
  });

  it('the same idempotency key added 20 times at once gives one action, and every call names it', async () => {
    const ws = tmpWorkspace();
    const results = await Promise.all(Array.from({ length: 20 }, () => cliAsync(['add', '--workspace', ws, '--name', 'once', '--in', '1h', '--run', 'true', '--key', 'K1', '--json'])));
    for (const r of results) assert.strictEqual(r.code, 0, r.stderr);
    const replies = results.map((r) => JSON.parse(r.stdout) as { id: string; created: boolean });
    assert.strictEqual(new Set(replies.map((r) => r.id)).size, 1);
    assert.strictEqual(replies.filter((r) => r.created).length, 1);
    assert.strictEqual(cliJson<unknown[]>(['list', '--workspace', ws]).length, 1);
  });

  it('a reply lost in a crash is sent again from what the owner recorded, and the request is not applied twice', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    fs.mkdirSync(p.replies, { recursive: true });
    const posted = postRequest(p, 'test', { op: 'add', actions: [{ name: 'lost-reply', trigger: { kind: 'manual' }, run: { command: 'true' } }] }, Date.now());
    const o = await engine(ws);
    await waitFor(() => fs.existsSync(path.join(p.replies, `${posted.msg.id}.json`)), 5000, 'the reply');
    await o.stop();
    const first = takeReply(p, posted.msg.id) as { ok: true; result: { actions: { id: string }[] } };
    // The owner died after its commit and before answering: its claim is still in the inbox, the reply is not.
    fs.writeFileSync(`${posted.file}.claimed`, JSON.stringify(posted.msg));
    // Any later owner (here a one-off CLI change) answers it again, from the record.
    assert.strictEqual(cli(['add', '--workspace', ws, '--name', 'other', '--manual', '--run', 'true']).code, 0);
    const again = takeReply(p, posted.msg.id) as { ok: true; result: { actions: { id: string }[] } };
    assert.ok(again?.ok, 'no reply the second time');
    assert.strictEqual(again.result.actions[0].id, first.result.actions[0].id);
    assert.deepStrictEqual(cliJson<{ name: string }[]>(['list', '--workspace', ws]).map((a) => a.name).sort(), ['lost-reply', 'other']);
  });

  it('an owner that does not take a request in time: the request is withdrawn, the caller told it was NOT applied, and it never is', async () => {
    const ws = tmpWorkspace();
    const owner = spawnCli(['run', '--workspace', ws, '--tick', '100', '--quiet']);
    try {
      await waitFor(() => fs.existsSync(sdlcPaths(ws).owner), 8000, 'the orchestrator to start');
      await sleep(300);
      owner.kill('SIGSTOP'); // alive, holding the folder, not answering
      const r = await cliAsync(['add', '--workspace', ws, '--name', 'late', '--manual', '--run', 'true', '--wait', '500ms']);
      assert.strictEqual(r.code, 1);
      assert.match(r.stderr, /did not take the request within 500ms; it was withdrawn and NOT applied, so nothing changed; try again/);
      owner.kill('SIGCONT');
      await sleep(600); // it ticks a few times: the withdrawn request is not there to apply
      assert.deepStrictEqual(cliJson<unknown[]>(['list', '--workspace', ws]), []);
      const ok = await cliAsync(['add', '--workspace', ws, '--name', 'late', '--manual', '--run', 'true']);
      assert.strictEqual(ok.code, 0, ok.stderr);
      assert.strictEqual(cliJson<unknown[]>(['list', '--workspace', ws]).length, 1);
    } finally {
      owner.kill('SIGCONT');
      owner.kill('SIGTERM');
      await new Promise((r) => owner.once('exit', r));
    }
  });
});

describe('fenced ownership', function () {
  this.timeout(30_000);

  it('two owners at once (the lock broken under the first): the stale one is refused at its next commit and runs nothing', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    const a = await engine(ws, { label: 'first' });
    try {
      await a.add(
        Array.from({ length: 10 }, (_, i) => ({ name: `job-${i}`, trigger: { kind: 'delay' as const, delay: `${400 + i * 50}ms` }, run: { command: 'echo "$SDLC_ACTION_NAME" >> fired.txt' } })),
      );
      // Split brain: the first owner's lock vanishes and a second engine takes the folder while the first still ticks.
      fs.rmSync(p.lease, { recursive: true, force: true });
      fs.rmSync(p.owner, { force: true });
      const b = await engine(ws, { label: 'second' });
      try {
        assert.strictEqual(b.currentRole, 'owner');
        await waitFor(() => lines(path.join(ws, 'fired.txt')).length >= 10, 8000, 'ten runs');
        await sleep(300);
        assert.deepStrictEqual(lines(path.join(ws, 'fired.txt')).sort(), Array.from({ length: 10 }, (_, i) => `job-${i}`).sort());
        console.log("      the first owner said: " + a.warnings.join(" / "));
        assert.notStrictEqual(a.currentRole, 'owner');
        assert.ok(a.warnings.some((w) => /another orchestrator took over this folder \(epoch \d+ is no longer the latest\)|lost ownership/.test(w)), a.warnings.join('\n'));
      } finally {
        await b.stop();
      }
    } finally {
      await a.stop();
    }
    assert.deepStrictEqual(fs.readdirSync(p.dir).filter((f) => /damaged/.test(f)), []);
    await verifyClean(ws);
  });
});

describe('a damaged journal is reported and copied, never cut quietly', function () {
  this.timeout(30_000);
  const add = (ws: string, name: string) => cliJson<{ id: string }>(['add', '--workspace', ws, '--name', name, '--manual', '--run', 'true']);
  const copies = (ws: string) => fs.readdirSync(sdlcPaths(ws).dir).filter((f) => f.startsWith('orchestrator.journal.damaged-'));

  it('one flipped byte in the last record: the record is reported lost, the journal copied, the warning shown by list', () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    for (const n of ['a', 'b', 'c']) add(ws, n);
    const bytes = fs.readFileSync(p.journal);
    const original = Buffer.from(bytes);
    const at = bytes.lastIndexOf(Buffer.from('"c"')) + 1;
    bytes[at] = 'C'.charCodeAt(0); // a complete record whose checksum now fails: not a torn write
    fs.writeFileSync(p.journal, bytes);
    const r = cli(['add', '--workspace', ws, '--name', 'd', '--manual', '--run', 'true']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /journal .*orchestrator\.journal is damaged \(after record 2, at byte \d+\).*saved the whole journal to/);
    const [copy] = copies(ws);
    assert.ok(copy, 'no copy of the damaged journal');
    assert.deepStrictEqual(fs.readFileSync(path.join(p.dir, copy)).subarray(0, original.length).length, original.length);
    const list = cli(['list', '--workspace', ws]);
    assert.match(list.stderr, /warning \(.*\): The journal .* is damaged/);
    assert.deepStrictEqual(cliJson<{ name: string }[]>(['list', '--workspace', ws]).map((a) => a.name).sort(), ['a', 'b', 'd']);
  });

  it('a journal that is all garbage: copied and reported, not emptied in silence', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    for (const n of ['a', 'b']) add(ws, n);
    const garbage = Buffer.from('\x00\x01garbage that is not a journal record\nmore of it\n');
    fs.writeFileSync(p.journal, garbage);
    const o = await engine(ws);
    try {
      assert.ok(o.warnings.some((w) => /journal .* is damaged \(after record none, at byte 0\)/.test(w)), o.warnings.join('\n'));
      const [copy] = copies(ws);
      assert.deepStrictEqual(fs.readFileSync(path.join(p.dir, copy)), garbage);
      const warned = o.eventsSince(0).filter((e) => e.type === 'engine.warning');
      assert.strictEqual(warned.length, 1);
    } finally {
      await o.stop();
    }
  });

  it('a torn last write (bytes past the last complete record) is cut with no warning: it was never acknowledged', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    for (const n of ['a', 'b']) add(ws, n);
    const bytes = fs.readFileSync(p.journal);
    const last = bytes.lastIndexOf(Buffer.from('\n#'));
    fs.writeFileSync(p.journal, bytes.subarray(0, last + 1 + 20));
    const o = await engine(ws);
    try {
      assert.deepStrictEqual(o.warnings, []);
      assert.deepStrictEqual(copies(ws), []);
      assert.deepStrictEqual(o.listActions().map((a) => a.name), ['a']);
    } finally {
      await o.stop();
    }
  });

  it('a journal path that is a folder gets a clear message, not EISDIR', () => {
    const ws = tmpWorkspace();
    add(ws, 'a');
    const p = sdlcPaths(ws);
    fs.rmSync(p.journal);
    fs.mkdirSync(p.journal);
    const r = cli(['list', '--workspace', ws]);
    assert.strictEqual(r.code, 1);
    assert.match(r.stderr, /the journal .*orchestrator\.journal is a folder, not a file; move it out of the way/);
    assert.doesNotMatch(r.stderr, /EISDIR/);
  });
});

describe('a clock stepped back does not stall recurring actions', function () {
  this.timeout(30_000);

  it('an injected clock one hour back: an every-1s action keeps running within two seconds', async () => {
    const ws = tmpWorkspace();
    let offset = 0;
    const o = await engine(ws, { clock: { now: () => Date.now() + offset } });
    try {
      await o.add({ name: 'tick', trigger: { kind: 'every', every: '1s' }, run: { command: 'echo x >> ticks.txt' } });
      await waitFor(() => lines(path.join(ws, 'ticks.txt')).length >= 2, 5000, 'two runs');
      offset = -3_600_000;
      const before = lines(path.join(ws, 'ticks.txt')).length;
      await waitFor(() => lines(path.join(ws, 'ticks.txt')).length >= before + 1, 2000, 'a run within two seconds of the step');
      assert.ok(o.eventsSince(0).some((e) => e.type === 'engine.clockStepped'));
    } finally {
      await o.stop();
    }
    await verifyClean(ws);
  });

  it('faketime steps the CLI orchestrator\'s clock back an hour: an every-1s action and a cron keep running', async function () {
    const lib = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((f) => fs.existsSync(f));
    if (!lib) this.skip(); // CI installs the faketime package
    const ws = tmpWorkspace();
    const stampFile = path.join(ws, 'faketime.rc');
    fs.writeFileSync(stampFile, '+0\n');
    cliJson(['add', '--workspace', ws, '--name', 'every', '--every', '1s', '--run', 'echo e >> every.txt']);
    cliJson(['add', '--workspace', ws, '--name', 'cron', '--cron', '* * * * * *', '--run', 'echo c >> cron.txt']);
    const child = spawn(process.execPath, [CLI, 'run', '--workspace', ws, '--tick', '100', '--quiet'], {
      stdio: 'ignore',
      env: { ...process.env, LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: stampFile, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1' },
    });
    try {
      await waitFor(() => lines(path.join(ws, 'every.txt')).length >= 2, 8000, 'runs before the step');
      fs.writeFileSync(stampFile, '-3600\n');
      await sleep(300);
      const e = lines(path.join(ws, 'every.txt')).length;
      const c = lines(path.join(ws, 'cron.txt')).length;
      await waitFor(() => lines(path.join(ws, 'every.txt')).length > e && lines(path.join(ws, 'cron.txt')).length > c, 2500, 'runs within two seconds after the step');
      const stepped = cliJson<{ type: string; data: { stepMs: number } }[]>(['events', '--workspace', ws]).filter((x) => x.type === 'engine.clockStepped');
      assert.strictEqual(stepped.length, 1);
      assert.ok(Math.abs(stepped[0].data.stepMs - 3_600_000) < 5000, String(stepped[0].data.stepMs));
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

describe('what the user configured survives damage, and names mean one thing', function () {
  this.timeout(30_000);

  it('a damaged webhook.json keeps its secret: moved aside, warned, rewritten with the same secret', async () => {
    const ws = tmpWorkspace();
    const p = sdlcPaths(ws);
    await (await engine(ws)).stop();
    const { secret } = readWebhookInfo(p)!;
    const text = fs.readFileSync(p.webhookInfo, 'utf8');
    fs.writeFileSync(p.webhookInfo, text.slice(0, text.indexOf(secret) + secret.length + 3)); // cut off mid-file
    const o = await engine(ws);
    try {
      assert.strictEqual(readWebhookInfo(p)?.secret, secret);
      assert.ok(o.warnings.some((w) => /webhook\.json was damaged; it was moved to .*damaged-.* and rewritten with the same secret/.test(w)), o.warnings.join('\n'));
      assert.strictEqual(fs.readdirSync(p.dir).filter((f) => f.startsWith('webhook.json.damaged-')).length, 1);
    } finally {
      await o.stop();
    }
  });

  it('cancelling an action that waits for a webhook or a manual run ends it (found by the property test)', () => {
    const ws = tmpWorkspace();
    cliJson(['add', '--workspace', ws, '--name', 'hooked', '--webhook', 'h', '--run', 'true']);
    cliJson(['add', '--workspace', ws, '--name', 'by-hand', '--manual', '--run', 'true']);
    for (const n of ['hooked', 'by-hand']) assert.strictEqual(cli(['cancel', '--workspace', ws, n]).code, 0);
    assert.deepStrictEqual(cliJson<unknown[]>(['list', '--workspace', ws]), []);
    assert.match(cli(['cancel', '--workspace', ws, 'hooked']).stderr, /action "hooked" is already cancelled/);
  });

  it('an ambiguous name is refused with the ids that match; names with control characters are shown escaped', () => {
    const ws = tmpWorkspace();
    const a = cliJson<{ id: string }>(['add', '--workspace', ws, '--name', 'twin', '--manual', '--run', 'true']);
    const b = cliJson<{ id: string }>(['add', '--workspace', ws, '--name', 'twin', '--manual', '--run', 'true']);
    const r = cli(['run-now', '--workspace', ws, 'twin']);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, /2 actions are named "twin" \(.*\); say which one by its id/);
    assert.ok(r.stderr.includes(a.id) && r.stderr.includes(b.id));
    assert.strictEqual(cli(['run-now', '--workspace', ws, a.id]).code, 0);
    cliJson(['add', '--workspace', ws, '--name', 'evil\n\u001b[31mFAKE  scheduled', '--manual', '--run', 'true']);
    const list = cli(['list', '--workspace', ws]).stdout;
    assert.ok(list.includes('evil\\n\\e[31mFAKE  scheduled'), list);
    assert.ok(!list.includes('\u001b'));
    assert.strictEqual(list.trim().split('\n').length, 4, 'a name forged a line');
  });
});

