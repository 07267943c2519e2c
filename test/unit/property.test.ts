// Property-based: fast-check drives random sequences of add, cancel, run-now, pause, resume,
// delete, webhook deliveries, waits, graceful restarts and SIGKILL crashes against a real
// orchestrator in a child process (real files, real commands that succeed, fail or hang past
// their timeout). After every sequence: no run started twice, no acknowledged request lost,
// no transition found its row changed underneath, and `verify` finds the tables equal to the
// fold of the lifecycle log.
import * as assert from 'assert';
import { fork, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { sdlcPaths } from '../../src/core/paths';
import { verifyStore } from '../../src/core/verify';
import { postDelivery } from '../../src/core/webhookClient';
import { readWebhookInfo } from '../../src/core/webhookFiles';
import { lines, readFolder, sleep, tmpWorkspace } from './helpers';

type Outcome = 'ok' | 'fail' | 'hang';
type Cmd =
  | { t: 'add'; trigger: 'in' | 'every' | 'webhook' | 'manual'; outcome: Outcome; delayMs: number }
  | { t: 'cancel' | 'runNow' | 'pauseAction' | 'resumeAction' | 'remove'; target: number }
  | { t: 'deliver' }
  | { t: 'wait'; ms: number }
  | { t: 'crash' }
  | { t: 'restart' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('add' as const), trigger: fc.constantFrom('in' as const, 'every' as const, 'webhook' as const, 'manual' as const), outcome: fc.constantFrom<Outcome>('ok', 'ok', 'fail', 'hang'), delayMs: fc.integer({ min: 20, max: 400 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constantFrom('cancel' as const, 'runNow' as const, 'pauseAction' as const, 'resumeAction' as const, 'remove' as const), target: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.constant({ t: 'deliver' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('wait' as const), ms: fc.integer({ min: 20, max: 400 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'crash' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'restart' as const }) },
);

const COMMAND: Record<Outcome, string> = {
  ok: 'echo "$SDLC_RUN_ID" >> started.txt',
  fail: 'echo "$SDLC_RUN_ID" >> started.txt; exit 3',
  hang: 'echo "$SDLC_RUN_ID" >> started.txt; sleep 5',
};

class Host {
  private next = 1;
  private readonly waiting = new Map<number, (r: { ok: boolean; result?: unknown; error?: string }) => void>();
  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id?: number; ok: boolean; result?: unknown; error?: string }) => {
      if (m.id !== undefined) this.waiting.get(m.id)?.(m);
    });
    child.on('exit', () => {
      for (const resolve of this.waiting.values()) resolve({ ok: false, error: 'the host died' });
    });
  }

  static async start(ws: string): Promise<Host> {
    const child = fork(path.join(__dirname, 'support', 'engineHost.js'), [ws], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr!.on('data', () => {}); // errors are also reported through 'role'
    const host = new Host(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the engine host exited ${code}`)));
    });
    return host;
  }

  role = '';
  async ask(op: string, arg?: unknown): Promise<{ ok: boolean; result?: unknown; error?: string }> {
    const id = this.next++;
    const answer = new Promise<{ ok: boolean; result?: unknown; error?: string }>((resolve) => this.waiting.set(id, resolve));
    this.child.send({ id, op, arg });
    const r = await answer;
    this.waiting.delete(id);
    if (op === 'role' && r.ok) this.role = (r.result as { role: string }).role;
    return r;
  }

  kill(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.kill('SIGKILL');
    });
  }
}

async function startOwner(ws: string): Promise<Host> {
  const h = await Host.start(ws);
  for (let i = 0; i < 200 && (await h.ask('role')).ok && h.role !== 'owner'; i++) await sleep(20);
  return h;
}

describe('property: random request sequences with crashes keep every promise', function () {
  this.timeout(600_000);

  it('no run twice, nothing acknowledged lost, every transition guarded, verify clean', async () => {
    let sequences = 0;
    let steps = 0;
    let crashes = 0;
    let runsSeen = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(cmdArb, { minLength: 4, maxLength: 18 }), async (cmds) => {
        sequences++;
        const ws = tmpWorkspace();
        const p = sdlcPaths(ws);
        const errors: string[] = [];
        // What the engine acknowledged: the model the tables must agree with.
        const acked: { id: string; deleted: boolean; cancelled: boolean }[] = [];
        let host = await startOwner(ws);
        try {
          for (const [i, c] of cmds.entries()) {
            steps++;
            if (c.t === 'add') {
              const trigger =
                c.trigger === 'in' ? { kind: 'delay', delay: `${c.delayMs}ms` } : c.trigger === 'every' ? { kind: 'every', every: '400ms' } : c.trigger === 'webhook' ? { kind: 'webhook', hook: 'h' } : { kind: 'manual' };
              const r = await host.ask('add', {
                name: `a${i}`,
                trigger,
                run: { command: COMMAND[c.outcome], runner: 'process' },
                policy: { maxAttempts: c.outcome === 'fail' ? 2 : 1, backoff: '100ms', ...(c.outcome === 'hang' ? { timeout: '300ms' } : {}) },
              });
              if (r.ok) acked.push({ id: (r.result as { actions: { id: string }[] }).actions[0].id, deleted: false, cancelled: false });
            } else if (c.t === 'deliver') {
              const info = readWebhookInfo(p);
              if (info?.url) await postDelivery(info.url, 'h', Buffer.from('{"n":1}'), { secret: info.secret, contentType: 'application/json' }).catch(() => undefined);
            } else if (c.t === 'wait') {
              await sleep(c.ms);
            } else if (c.t === 'crash') {
              crashes++;
              await host.kill();
              host = await startOwner(ws);
            } else if (c.t === 'restart') {
              const r = await host.ask('stop');
              if (r.ok) errors.push(...(r.result as { errors: string[] }).errors);
              await host.kill();
              host = await startOwner(ws);
            } else if (acked.length) {
              const target = acked[c.target % acked.length];
              const r = await host.ask(c.t, target.id);
              if (r.ok && c.t === 'remove') target.deleted = true;
              if (r.ok && c.t === 'cancel') target.cancelled = true;
              if (r.ok && c.t === 'runNow') target.cancelled = false; // run now re-runs a finished action
            }
          }
          await sleep(450); // let what is due start and what runs finish
          const r = await host.ask('stop');
          if (r.ok) errors.push(...(r.result as { errors: string[] }).errors);
        } finally {
          await host.kill();
        }
        await sleep(250); // children stopped at shutdown finish dying
        const started = lines(path.join(ws, 'started.txt'));
        runsSeen += started.length;
        assert.strictEqual(new Set(started).size, started.length, `a run started twice: ${started.join(' ')}`);
        const state = await readFolder(ws, (db) => ({ actions: db.store.allActions(), runs: db.store.allRuns(), report: verifyStore(db.store) }));
        const runIds = new Set(state.runs.map((x) => x.runId));
        for (const id of started) assert.ok(runIds.has(id), `run ${id} started but is not recorded`);
        assert.deepStrictEqual(state.runs.filter((x) => x.status === 'running').map((x) => x.runId), [], 'a run is still marked running after a clean stop');
        const byId = new Map(state.actions.map((a) => [a.id, a]));
        for (const a of acked) {
          if (a.deleted) assert.ok(!byId.has(a.id), `deleted action ${a.id} is still there`);
          else assert.ok(byId.has(a.id), `acknowledged action ${a.id} was lost`);
          if (a.cancelled && !a.deleted) assert.strictEqual(byId.get(a.id)!.status, 'cancelled');
        }
        assert.deepStrictEqual(errors, [], 'the engine logged errors (a transition found its row changed underneath?)');
        assert.ok(state.report.ok, `verify: ${JSON.stringify(state.report.divergences.slice(0, 5))}`);
        assert.deepStrictEqual(fs.readdirSync(p.dir).filter((f) => /damaged|corrupt/.test(f)), []);
      }),
      { numRuns: 25, endOnFailure: true },
    );
    console.log(`      ${sequences} sequences, ${steps} steps, ${crashes} crashes, ${runsSeen} runs started`);
  });
});
