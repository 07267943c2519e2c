// The orchestrator panel without a browser: the message protocol between two real ends, the
// view model (grouping, filtering, keyboard moves, the timeline), and what the host sends,
// read from a real engine running real processes.
import * as assert from 'assert';
import * as path from 'path';
import type { Action } from '../../src/core/model';
import { migrate } from '../../src/core/store/schema';
import { loadSqlJs } from '../../src/core/store/sqljs';
import { Store } from '../../src/core/store/store';
import { checkForm, deltaOf, detailsOf, historyPage, nextRuns } from '../../src/extension/model/panelData';
import { EMPTY_FILTER, HostEnd, WebviewEnd, asMessage, type Handlers, type Message, type PanelRun, type Snapshot, type Transport } from '../../webview/protocol';
import { PanelModel, dayKey, moveFocus, timelineRows, visibleRows } from '../../webview/viewModel';
import { actionFixture, engine, lines, tmpWorkspace, waitFor } from './helpers';

/** Two transports joined like the webview and its host: asynchronous, structured-cloned, one way each. */
function pair(): { host: Transport; page: Transport; sent: Message[] } {
  const listeners: { host: ((m: unknown) => void)[]; page: ((m: unknown) => void)[] } = { host: [], page: [] };
  const sent: Message[] = [];
  const end = (me: 'host' | 'page', other: 'host' | 'page'): Transport => ({
    post: (m) => {
      sent.push(m);
      const copy = structuredClone(m);
      setTimeout(() => listeners[other].forEach((l) => l(copy)), 0);
    },
    listen: (h) => {
      listeners[me].push(h);
      return () => (listeners[me] = listeners[me].filter((x) => x !== h));
    },
  });
  return { host: end('host', 'page'), page: end('page', 'host'), sent };
}

const notUsed = async () => {
  throw new Error('not used here');
};
function handlers(over: Partial<Handlers>): Handlers {
  return { ready: notUsed, history: notUsed, details: notUsed, delivery: notUsed, act: notUsed, validate: notUsed, add: notUsed, saveFilter: notUsed, showOutput: notUsed, showDelivery: notUsed, replay: notUsed, ...over } as Handlers;
}

const now = new Date(2026, 5, 10, 12, 0, 0).getTime(); // local noon

const action = (over: Partial<Action>): Action => actionFixture(now, over);

function run(i: number, over: Partial<PanelRun> = {}): PanelRun {
  return {
    runId: `r${i}`,
    actionId: 'build',
    name: 'build',
    runner: 'process',
    status: 'succeeded',
    attempt: 1,
    startedAt: now - i * 3_600_000 - 500,
    endedAt: now - i * 3_600_000,
    exitCode: 0,
    reason: null,
    cause: 'schedule',
    command: 'npm run build',
    trigger: 'cron',
    ...over,
  };
}

function snapshot(actions: Action[], history: PanelRun[]): Snapshot {
  return { protocol: 1, folders: [], folder: '/w', paused: false, actions, history, historyComplete: true, deliveries: [], lastSeq: 0, filter: EMPTY_FILTER };
}

describe('panel: the message protocol', () => {
  it('answers each request by its id, in any order, and reports a handler error as a rejection', async () => {
    const { host, page } = pair();
    let release!: () => void;
    const slow = new Promise<void>((r) => (release = r));
    new HostEnd(
      host,
      handlers({
        history: async ({ limit }) => {
          if (limit === 1) await slow; // the first request answers last
          return { runs: [run(limit)], complete: true };
        },
        act: async () => {
          throw new Error('That action was deleted');
        },
      }),
    );
    const end = new WebviewEnd(page);
    const first = end.request('history', { folder: '/w', before: undefined, limit: 1 });
    const second = await end.request('history', { folder: '/w', before: undefined, limit: 2 });
    assert.strictEqual(second.runs[0].runId, 'r2');
    release();
    assert.strictEqual((await first).runs[0].runId, 'r1');
    await assert.rejects(end.request('act', { folder: '/w', op: 'cancel', actionId: 'x' }), /That action was deleted/);
  });

  it('delivers pushes to listeners, and a request nobody answers fails instead of hanging', async () => {
    const { host, page } = pair();
    const hostEnd = new HostEnd(host, handlers({}));
    const end = new WebviewEnd(page, 50);
    const got: string[] = [];
    end.on('delta', (d) => got.push(d.folder));
    hostEnd.push('delta', { folder: '/w', events: [], actions: [], removedActions: [], runs: [], deliveries: [], paused: false });
    await waitFor(() => got.length === 1, 1000, 'the push');
    hostEnd.dispose(); // the host went away (a reload): nothing answers now
    await assert.rejects(end.request('ready', { protocol: 1 }), /did not answer "ready"/);
  });

  it('ignores anything that is not one of its messages', () => {
    assert.strictEqual(asMessage({ kind: 'request', id: 1, method: 'rm -rf', params: {} }), undefined);
    assert.strictEqual(asMessage({ kind: 'reply', id: 'x', ok: true }), undefined);
    assert.strictEqual(asMessage('ready'), undefined);
    assert.ok(asMessage({ kind: 'request', id: 3, method: 'details', params: {} }));
  });
});

describe('panel: the view model', () => {
  it('groups the queue by state and waiting reason, with counts, running first', () => {
    const m = new PanelModel();
    m.load(
      snapshot(
        [
          action({ name: 'later', dueAt: now + 600_000 }),
          action({ name: 'sooner', dueAt: now + 60_000 }),
          action({ name: 'busy', status: 'running', running: 1 }),
          action({ name: 'on push', status: 'waiting', dueAt: null, trigger: { kind: 'webhook', hook: 'push' } }),
          action({ name: 'after build', status: 'waiting', dueAt: null, trigger: { kind: 'after', after: ['busy'] } }),
          action({ name: 'held', status: 'paused' }),
          action({ name: 'done', status: 'succeeded' }), // finished: history, not queue
        ],
        [],
      ),
    );
    const rows = visibleRows(m, EMPTY_FILTER, {}, now);
    const text = rows.map((r) => `${'  '.repeat(r.level - 1)}${r.label}${r.count !== undefined ? ` (${r.count})` : ''}`);
    assert.deepStrictEqual(text, [
      'Queue (6)',
      '  Running (1)',
      '    busy',
      '  Scheduled (2)',
      '    sooner',
      '    later',
      '  Waiting (2)',
      '    Webhook (1)',
      '      on push',
      '    Dependency (1)',
      '      after build',
      '  Paused (1)',
      '    held',
      'Webhooks (0)',
      '  No deliveries.',
      'History (0)',
      '  No runs yet.',
    ]);
    const after = rows.find((r) => r.label === 'after build')!;
    assert.strictEqual(after.description, 'after busy');
    // ARIA: each row knows its level and place among its siblings, drawn or not.
    const scheduled = rows.find((r) => r.label === 'Scheduled')!;
    assert.deepStrictEqual([scheduled.level, scheduled.posInSet, scheduled.setSize, scheduled.expanded], [2, 2, 4, true]);
  });

  it('puts history under days, newest first, opens only the newest day, and collapses on request', () => {
    const m = new PanelModel();
    m.load(snapshot([], [run(1), run(30), run(2), run(50)])); // 1 h, 2 h, 30 h, 50 h ago
    let rows = visibleRows(m, EMPTY_FILTER, {}, now);
    const days = rows.filter((r) => r.key.startsWith('day:'));
    assert.deepStrictEqual(
      days.map((d) => [d.label, d.count, d.expanded]),
      [
        ['Today', 2, true],
        ['Yesterday', 1, false],
        [new Date(now - 50 * 3_600_000).toLocaleDateString('en-US', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' }), 1, false],
      ],
    );
    assert.deepStrictEqual(
      rows.filter((r) => r.kind === 'run').map((r) => r.runId),
      ['r1', 'r2'],
    );
    rows = visibleRows(m, EMPTY_FILTER, { [`day:${dayKey(now)}`]: false, [`day:${dayKey(now - 30 * 3_600_000)}`]: true, queue: false }, now);
    assert.deepStrictEqual(
      rows.filter((r) => r.kind === 'run').map((r) => r.runId),
      ['r30'],
    );
    assert.ok(!rows.some((r) => r.key === 'queue-empty'), 'a collapsed group hides its rows');
  });

  it('filters by status, runner, trigger and text over name and command, in queue and history alike', () => {
    const m = new PanelModel();
    m.load(
      snapshot(
        [action({ name: 'lint', run: { runner: 'task', command: 'npm run lint' } }), action({ name: 'deploy', status: 'waiting', dueAt: null, trigger: { kind: 'webhook', hook: 'd' }, run: { runner: 'process', command: './deploy.sh' } })],
        [run(1), run(2, { runId: 'f', status: 'failed', exitCode: 2, name: 'deploy', command: './deploy.sh', trigger: 'webhook', runner: 'process' })],
      ),
    );
    const labels = (f: Partial<typeof EMPTY_FILTER>) =>
      visibleRows(m, { ...EMPTY_FILTER, ...f }, {}, now)
        .filter((r) => r.kind === 'action' || r.kind === 'run')
        .map((r) => r.label);
    assert.deepStrictEqual(labels({}), ['lint', 'deploy', 'build', 'deploy']);
    assert.deepStrictEqual(labels({ text: 'DEPLOY.SH' }), ['deploy', 'deploy']);
    assert.deepStrictEqual(labels({ text: 'run build' }), ['build']);
    assert.deepStrictEqual(labels({ status: 'failed' }), ['deploy']);
    assert.deepStrictEqual(labels({ runner: 'task' }), ['lint']);
    assert.deepStrictEqual(labels({ trigger: 'webhook' }), ['deploy', 'deploy']);
    const none = visibleRows(m, { ...EMPTY_FILTER, text: 'nothing like it' }, {}, now);
    assert.deepStrictEqual(
      none.filter((r) => r.kind === 'empty').map((r) => r.label),
      ['No queued action matches the filter.', 'No deliveries.', 'No run matches the filter.'],
    );
  });

  it('applies pushed changes: a run that finishes leaves the queue and lands in history', () => {
    const m = new PanelModel();
    const busy = action({ id: 'b', name: 'busy', status: 'running', running: 1 });
    m.load(snapshot([busy], []));
    const touched = m.apply({
      folder: '/w',
      events: [{ seq: 9, ts: now, type: 'task.completed', actionId: 'b', runId: 'r9', data: {} }],
      actions: [{ ...busy, status: 'succeeded', running: 0 }],
      removedActions: [],
      runs: [run(0, { runId: 'r9', actionId: 'b', name: 'busy' })],
      deliveries: [],
      paused: false,
    });
    assert.deepStrictEqual([...touched], ['b']);
    assert.strictEqual(m.lastSeq, 9);
    const rows = visibleRows(m, EMPTY_FILTER, {}, now);
    assert.deepStrictEqual(
      rows.filter((r) => r.kind !== 'group').map((r) => `${r.kind}:${r.label}`),
      ['empty:Nothing queued. Add an action to schedule work.', 'run:busy'],
    );
  });

  it('lists the webhook inbox under its own group, and a filter on state or runner hides it', () => {
    const m = new PanelModel();
    const delivery = (id: string, hook: string, status: 'received' | 'processed', names: string[]) => ({
      id, hook, status, externalId: null, receivedAt: now - 60_000, processedAt: null, source: '127.0.0.1', headers: {}, size: 2, sha256: '', replayOf: null,
      actions: names.map((n) => ({ id: n, name: n })),
    });
    m.load({ ...snapshot([action({ name: 'deploy', status: 'waiting', dueAt: null, trigger: { kind: 'webhook', hook: 'push' } })], []), webhookUrl: 'http://127.0.0.1:9' });
    let inbox = visibleRows(m, EMPTY_FILTER, {}, now).filter((r) => r.key.startsWith('webhooks') || r.kind === 'delivery');
    assert.deepStrictEqual(inbox.map((r) => r.label), ['Webhooks', 'No deliveries yet. POST to http://127.0.0.1:9/hooks/push']);
    m.apply({ folder: '/w', events: [], actions: [], removedActions: [], runs: [], paused: false, deliveries: [delivery('d1', 'push', 'processed', ['deploy']), delivery('d2', 'push', 'received', [])] });
    inbox = visibleRows(m, EMPTY_FILTER, {}, now).filter((r) => r.kind === 'delivery');
    assert.deepStrictEqual(inbox.map((r) => [r.deliveryId, r.description]), [['d1', 'ran deploy · 1 min ago'], ['d2', 'runs on the next tick · 1 min ago']]);
    assert.strictEqual(visibleRows(m, { ...EMPTY_FILTER, runner: 'task' }, {}, now).filter((r) => r.kind === 'delivery').length, 0);
    assert.strictEqual(visibleRows(m, { ...EMPTY_FILTER, text: 'PUSH' }, {}, now).filter((r) => r.kind === 'delivery').length, 2);
  });

  it('moves keyboard focus the way a tree does', () => {
    const m = new PanelModel();
    m.load(snapshot([action({ name: 'one' })], [run(1)]));
    const rows = visibleRows(m, EMPTY_FILTER, {}, now);
    const at = (label: string) => rows.findIndex((r) => r.label === label);
    assert.deepStrictEqual(moveFocus(rows, at('one'), 'ArrowLeft'), { focus: at('Scheduled') }, 'Left on a leaf goes to its parent');
    assert.deepStrictEqual(moveFocus(rows, at('Scheduled'), 'ArrowLeft'), { focus: at('Scheduled'), toggle: true }, 'Left on an open group closes it');
    assert.deepStrictEqual(moveFocus(rows, at('Queue'), 'ArrowRight'), { focus: at('Queue') + 1 }, 'Right on an open group enters it');
    assert.deepStrictEqual(moveFocus(rows, 0, 'End'), { focus: rows.length - 1 });
    assert.deepStrictEqual(moveFocus(rows, rows.length - 1, 'ArrowDown'), { focus: rows.length - 1 });
    const closed = visibleRows(m, EMPTY_FILTER, { history: false }, now);
    const history = closed.findIndex((r) => r.key === 'history');
    assert.deepStrictEqual(moveFocus(closed, history, 'ArrowRight'), { focus: history, toggle: true }, 'Right on a closed group opens it');
  });

  it('renders 10,000 runs as a few day groups, and draws only the open day', () => {
    const m = new PanelModel();
    const runs = Array.from({ length: 10_000 }, (_, i) => run(i / 100)); // 100 runs an hour, ~4 days
    m.load(snapshot([], runs));
    const rows = visibleRows(m, EMPTY_FILTER, {}, now);
    const today = rows.find((r) => r.label === 'Today')!;
    assert.strictEqual(rows.filter((r) => r.kind === 'run').length, today.count);
    assert.ok(rows.length < 2000, `${rows.length} rows`);
    assert.strictEqual(rows.find((r) => r.key === 'history')!.count, 10_000);
  });

  it('tells an action’s story in order, with what each event says', () => {
    const rows = timelineRows([
      { seq: 3, ts: now + 2000, type: 'task.completed', runId: 'abcdef123456', data: { exitCode: 0, durationMs: 1500, attempt: 1 } },
      { seq: 1, ts: now, type: 'task.accepted', runId: null, data: { trigger: { kind: 'cron' }, dueAt: new Date(now + 500).toISOString() } },
      { seq: 2, ts: now + 500, type: 'task.started', runId: 'abcdef123456', data: { cause: 'schedule', attempt: 1, lateMs: 2 } },
      { seq: 4, ts: now + 3000, type: 'task.retried', runId: 'abcdef123456', data: { attempt: 2, of: 3, delayMs: 2000, reason: 'exit code 1' } },
    ]);
    assert.deepStrictEqual(
      rows.map((r) => [r.seq, r.type, r.run, r.detail]),
      [
        [1, 'task.accepted', '', 'trigger cron · due 06-10 12:00:00.500'],
        [2, 'task.started', 'abcdef12', 'cause schedule · attempt 1 · 2 ms after due'],
        [3, 'task.completed', 'abcdef12', 'attempt 1 · exit 0 · took 1.5s'],
        [4, 'task.retried', 'abcdef12', 'attempt 2/3 · retry in 2.0s · exit code 1'],
      ],
    );
    assert.strictEqual(rows[0].time, '06-10 12:00:00.000');
    assert.deepStrictEqual(
      rows.map((r) => r.tone),
      [undefined, 'running', 'passed', 'warning'],
    );
  });
});

describe('panel: what the host sends (a real engine)', () => {
  it('turns each commit of the change feed into a delta, and details tell the whole story', async () => {
    const ws = tmpWorkspace();
    const orch = await engine(ws);
    const deltas: ReturnType<typeof deltaOf>[] = [];
    orch.onEvents((events) => deltas.push(deltaOf(orch, ws, events)));
    try {
      const { actions } = await orch.add({ name: 'echo', trigger: { kind: 'manual' }, run: { runner: 'process', command: 'echo hello-panel >> out.txt; echo done' } });
      const id = actions[0].id;
      await waitFor(() => deltas.some((d) => d?.actions.some((a) => a.id === id)), 5000, 'the accepted action in a delta');
      await orch.runNow(id);
      await waitFor(() => deltas.some((d) => d?.runs.some((r) => r.actionId === id && r.status === 'succeeded')), 10_000, 'the finished run in a delta');
      assert.deepStrictEqual(lines(path.join(ws, 'out.txt')), ['hello-panel']);
      const finished = deltas.flatMap((d) => d?.runs ?? []).find((r) => r.status === 'succeeded')!;
      assert.strictEqual(finished.command, 'echo hello-panel >> out.txt; echo done', 'runs carry their action’s command for the filter');
      assert.strictEqual(finished.trigger, 'manual');

      const d = detailsOf(orch, id, undefined, Date.now())!;
      assert.strictEqual(d.run?.exitCode, 0);
      assert.match(d.run!.outputTail, /done/);
      assert.deepStrictEqual(
        d.timeline.map((e) => e.type),
        ['task.accepted', 'task.triggered', 'task.started', 'task.completed'],
      );
      assert.ok(d.timeline.every((e, i) => i === 0 || e.seq > d.timeline[i - 1].seq));

      await orch.clearHistory();
      await waitFor(() => deltas[deltas.length - 1] === undefined, 5000, 'a clear to ask for a whole snapshot');
      assert.deepStrictEqual(historyPage(orch, undefined).runs, []);
    } finally {
      await orch.stop();
    }
  });

  it('shows a webhook run’s payload pretty-printed', async () => {
    const ws = tmpWorkspace();
    const orch = await engine(ws);
    try {
      const { actions } = await orch.add({ name: 'on push', trigger: { kind: 'webhook', hook: 'push' }, run: { runner: 'process', command: 'true' } });
      const info = JSON.parse(require('fs').readFileSync(path.join(ws, '.sdlc', 'webhook.json'), 'utf8'));
      const res = await fetch(`${info.url}/hooks/push`, { method: 'POST', headers: { authorization: `Bearer ${info.secret}`, 'content-type': 'application/json' }, body: '{"ref":"main","n":1}' });
      assert.strictEqual(res.status, 202);
      await waitFor(() => orch.store.runsOf(actions[0].id).some((r) => r.status === 'succeeded'), 10_000, 'the webhook run');
      const d = detailsOf(orch, actions[0].id, undefined, Date.now())!;
      assert.strictEqual(d.payload?.kind, 'json');
      assert.strictEqual(d.payload?.text, '{\n  "ref": "main",\n  "n": 1\n}');
      assert.strictEqual(d.payload?.delivery.hook, 'push');
    } finally {
      await orch.stop();
    }
  });

  it('pages history older than a cursor, and lists the next run times of a recurring action', async () => {
    const ws = tmpWorkspace();
    const orch = await engine(ws);
    try {
      const { actions } = await orch.add({ name: 'tick', trigger: { kind: 'manual' }, run: { runner: 'process', command: 'true' } });
      for (let i = 0; i < 5; i++) {
        await orch.runNow(actions[0].id);
        await waitFor(() => orch.history(10).length === i + 1, 10_000, `run ${i + 1}`);
      }
      const first = historyPage(orch, undefined, 3);
      assert.deepStrictEqual([first.runs.length, first.complete], [3, false]);
      const rest = historyPage(orch, { endedAt: first.runs[2].endedAt!, runId: first.runs[2].runId }, 3);
      assert.deepStrictEqual([rest.runs.length, rest.complete], [2, true]);
      assert.strictEqual(new Set([...first.runs, ...rest.runs].map((r) => r.runId)).size, 5);
    } finally {
      await orch.stop();
    }
    const cron = action({ trigger: { kind: 'cron', cron: '0 9 * * *' }, dueAt: new Date(2026, 5, 11, 9, 0).getTime() });
    assert.deepStrictEqual(
      nextRuns(cron, now, 3).map((t) => new Date(t).getDate()),
      [11, 12, 13],
    );
    const every = action({ trigger: { kind: 'every', every: '15m' }, dueAt: now + 60_000 });
    assert.deepStrictEqual(nextRuns(every, now, 3), [now + 60_000, now + 960_000, now + 1_860_000]);
    assert.deepStrictEqual(nextRuns({ ...every, status: 'paused' }, now), []);
  });

  it('pages through runs that ended in the same millisecond without losing or repeating one', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    migrate(db);
    const insert = db.prepare(
      `INSERT INTO runs (run_id, action_id, name, runner, status, attempt, started_at, ended_at, exit_code, cause, owner) VALUES (?, 'a', 'burst', 'process', 'succeeded', 1, ?, ?, 0, 'schedule', 't')`,
    );
    for (let i = 0; i < 25; i++) insert.run([`run-${String(i).padStart(2, '0')}`, now, i < 20 ? now + 5 : now + 1]); // 20 share one end time
    insert.free();
    const store = new Store(db);
    const seen: string[] = [];
    let before: { endedAt: number; runId: string } | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = store.runSummaries(7, before);
      seen.push(...page.map((r) => r.runId));
      if (page.length < 7) break;
      before = page[page.length - 1] as { endedAt: number; runId: string };
    }
    assert.strictEqual(seen.length, 25);
    assert.strictEqual(new Set(seen).size, 25);
    db.close();
  });

  it('checks the Add form the way Schedule Action does', () => {
    const form = { name: '', command: 'npm test', runner: 'process' as const, when: 'in' as const, value: '10' };
    const ok = checkForm(form, now, []);
    assert.deepStrictEqual(ok.input, { name: 'npm test', trigger: { kind: 'delay', delay: '10m' }, run: { runner: 'process', command: 'npm test' } });
    assert.match(ok.feedback.info!, /Runs once/);
    const bad = checkForm({ ...form, command: ' ', when: 'cron', value: '61 * * * *' }, now, []);
    assert.strictEqual(bad.input, undefined);
    assert.match(bad.feedback.command!, /Type the shell command/);
    assert.match(bad.feedback.value!, /Cron expression "61 \* \* \* \*" is invalid/);
    assert.match(checkForm({ ...form, when: 'at', value: '2001-01-01T00:00' }, now, []).feedback.value!, /in the past/);
    assert.match(checkForm({ ...form, when: 'after', value: '' }, now, []).feedback.value!, /no action to run after yet/);
    const upstream = action({ id: 'u1', name: 'build' });
    assert.deepStrictEqual(checkForm({ ...form, when: 'after', value: 'u1' }, now, [upstream]).input?.trigger, { kind: 'after', after: ['u1'] });
    assert.match(checkForm({ ...form, runner: 'rm' as never }, now, []).feedback.command!, /not a runner/);
  });
});
