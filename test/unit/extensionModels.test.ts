// The parts of the extension that need no editor: the wizard's parsing and validation, the
// tree's rows (which, in what order, with what labels), the status bar's state → text.
import * as assert from 'assert';
import { DEFAULT_POLICY, type Action, type Delivery, type Run } from '../../src/core/model';
import { relativeTime } from '../../src/extension/model/relativeTime';
import { renderStatus } from '../../src/extension/model/statusModel';
import { buildTree, queueOrder, type FolderView } from '../../src/extension/model/treeModel';
import { renderDelivery } from '../../src/extension/model/deliveryText';
import { commandFeedback, defaultName, parseAt, runChoices, whenFeedback } from '../../src/extension/model/wizardModel';
import { parseActionsFile } from '../../src/core/definitions/actionsFile';
import { cronHover, lensesFor } from '../../src/extension/model/fileLens';
import { causeText } from '../../src/core/triggers/eventText';
import { actionFixture } from './helpers';

const now = new Date(2026, 5, 1, 12, 0, 0).getTime(); // local noon

const action = (over: Partial<Action>): Action => actionFixture(now, over);

function run(over: Partial<Run>): Run {
  return {
    runId: over.name ?? 'r',
    actionId: 'x',
    name: 'r',
    runner: 'task',
    status: 'succeeded',
    attempt: 1,
    startedAt: now - 120_000,
    endedAt: now - 120_000 + 1234,
    exitCode: 0,
    reason: null,
    outputTail: '',
    cause: 'schedule',
    ...over,
  };
}

describe('Schedule Action wizard', () => {
  it('offers the default runner first and marks it', () => {
    const choices = runChoices('terminal');
    assert.strictEqual(choices[0].value, 'terminal');
    assert.match(choices[0].description ?? '', /default/);
    assert.deepStrictEqual(choices.map((c) => c.value).sort(), ['process', 'task', 'tasksJson', 'terminal']);
  });

  it('reads a delay, a bare number as minutes, and says when it will run', () => {
    const f = whenFeedback('in', '10', now);
    assert.ok(f.ok && f.trigger.kind === 'delay' && f.trigger.delay === '10m');
    assert.ok(f.ok && /Runs once, Mon 2026-06-01 12:10/.test(f.info ?? ''), JSON.stringify(f));
    const bad = whenFeedback('in', 'soon', now);
    assert.ok(!bad.ok && /"soon" is not a duration/.test(bad.message));
  });

  it('reads a time of day as the next one, and refuses a time in the past', () => {
    assert.strictEqual(parseAt('13:30', now), new Date(2026, 5, 1, 13, 30).getTime());
    assert.strictEqual(parseAt('09:00', now), new Date(2026, 5, 2, 9, 0).getTime()); // tomorrow
    assert.strictEqual(parseAt('2026-06-03T08:15', now), new Date(2026, 5, 3, 8, 15).getTime()); // local
    const past = whenFeedback('at', '2026-05-01T08:00', now);
    assert.ok(!past.ok && /in the past/.test(past.message));
    const nonsense = whenFeedback('at', '25:99', now);
    assert.ok(!nonsense.ok && /not a time of day/.test(nonsense.message));
  });

  it('shows the next three run times of a cron expression as you type, or what is wrong', () => {
    const f = whenFeedback('cron', '0 9 * * 1-5', now);
    assert.ok(f.ok && f.trigger.kind === 'cron');
    assert.ok(f.ok && f.info!.startsWith('Next: ') && f.info!.split(' · ').length === 3, f.ok ? f.info : '');
    assert.ok(f.ok && /Tue 2026-06-02 09:00/.test(f.info!));
    const partial = whenFeedback('cron', '0 9 *', now);
    assert.ok(!partial.ok && /has 3 fields/.test(partial.message));
    const bad = whenFeedback('cron', '0 25 * * *', now);
    assert.ok(!bad.ok && /hour/i.test(bad.message));
  });

  it('validates intervals, webhook names and commands with messages that say what to do', () => {
    assert.ok(!whenFeedback('every', '100ms', now).ok);
    const every = whenFeedback('every', '15m', now);
    assert.ok(every.ok && every.trigger.kind === 'every');
    const hook = whenFeedback('webhook', 'not ok!', now);
    assert.ok(!hook.ok && /not a webhook name/.test(hook.message));
    assert.match(commandFeedback('   ')!, /Type the shell command/);
    assert.strictEqual(commandFeedback('npm test'), undefined);
    const long = defaultName('npm run build -- --watch --and --many --more --flags --here');
    assert.deepStrictEqual([long.length, long.endsWith('…'), long.startsWith('npm run build')], [40, true, true]);
    assert.strictEqual(defaultName('make\nmake install'), 'make');
  });

  it('checks development-event triggers as you type: globs, git events with a branch, task labels', () => {
    const change = whenFeedback('change', 'src/**/*.ts, test/**', now);
    assert.ok(change.ok);
    assert.deepStrictEqual(change.trigger, { kind: 'change', paths: ['src/**/*.ts', 'test/**'] });
    const badGlob = whenFeedback('change', 'src/{a,b', now);
    assert.ok(!badGlob.ok && /is not a valid glob: Missing closing: "}"/.test(badGlob.message), JSON.stringify(badGlob));
    assert.ok(!whenFeedback('change', '/abs/**', now).ok);
    const git = whenFeedback('git', 'commit release/*', now);
    assert.ok(git.ok);
    assert.deepStrictEqual(git.trigger, { kind: 'git', git: 'commit', branch: 'release/*' });
    assert.strictEqual(git.info, 'Runs on each commit on release/*');
    const push = whenFeedback('git', 'push', now);
    assert.ok(!push.ok && /Start with commit, checkout or merge \("push" is none of them\)/.test(push.message));
    const branch = whenFeedback('git', 'checkout a..b', now);
    assert.ok(!branch.ok && /cannot match a git branch name/.test(branch.message));
    const task = whenFeedback('afterTask', ' build ', now);
    assert.ok(task.ok && task.trigger.kind === 'afterTask' && task.trigger.task === 'build');
    assert.ok(!whenFeedback('afterTask', '  ', now).ok);
  });

  it('says what started a run: the files, the commit, the task', () => {
    assert.strictEqual(causeText('change', { _changed: 'a.ts\nb.ts\nc.ts\nd.ts', SDLC_CHANGED_COUNT: '1200' }), '1200 files changed: a.ts, b.ts, c.ts, …');
    assert.strictEqual(causeText('git:commit', { SDLC_GIT_COMMIT: 'abcdef0123', SDLC_GIT_BRANCH: 'main' }), 'commit abcdef0 on main');
    assert.strictEqual(causeText('git:checkout', { SDLC_GIT_COMMIT: 'abcdef0123', SDLC_GIT_BRANCH: '' }), 'switched to a detached HEAD at abcdef0');
    assert.strictEqual(causeText('task:build', { SDLC_TASK_EXIT_CODE: '2' }), 'task "build" ended with exit code 2');
    assert.strictEqual(causeText('open'), 'the folder was opened');
    assert.strictEqual(causeText('schedule'), 'schedule');
  });
});

describe('sidebar tree model', () => {
  const folder = (actions: Action[], history: Run[] = []): FolderView => ({ name: 'proj', path: '/p', actions, history, deliveries: [] });

  it('orders the queue: running, then scheduled by due time, then waiting, then paused', () => {
    const ordered = queueOrder([
      action({ name: 'paused', status: 'paused', dueAt: null }),
      action({ name: 'later', dueAt: now + 600_000 }),
      action({ name: 'hook', status: 'waiting', dueAt: null, trigger: { kind: 'webhook', hook: 'deploy' } }),
      action({ name: 'soon', dueAt: now + 5_000 }),
      action({ name: 'busy', status: 'running', dueAt: null, running: 1 }),
      action({ name: 'retry', status: 'retrying', dueAt: now + 30_000, attempt: 1, policy: { ...DEFAULT_POLICY, maxAttempts: 3 } }),
    ]);
    assert.deepStrictEqual(ordered.map((a) => a.name), ['busy', 'soon', 'retry', 'later', 'hook', 'paused']);
  });

  it('labels queue rows with when they run and history rows with duration, exit code and age', () => {
    const [queue, history] = buildTree(
      [
        folder(
          [
            action({ name: 'soon', dueAt: now + 180_000 }),
            action({ name: 'hook', status: 'waiting', dueAt: null, trigger: { kind: 'webhook', hook: 'deploy' } }),
            action({ name: 'retry', status: 'retrying', dueAt: now + 30_000, attempt: 1, policy: { ...DEFAULT_POLICY, maxAttempts: 3 } }),
          ],
          [run({ name: 'built' }), run({ name: 'broke', status: 'failed', exitCode: 2, reason: 'exit code 2', endedAt: now - 3_000 }), run({ name: 'sent', runner: 'terminal', exitCode: null })],
        ),
      ],
      now,
    );
    assert.deepStrictEqual([queue.label, queue.description, history.label, history.description], ['Queue', '3', 'History', '3']);
    const rows = queue.children!.map((n) => [n.label, n.description, n.icon?.id, n.contextValue]);
    assert.deepStrictEqual(rows, [
      ['retry', 'retry in 30 s · attempt 2/3', 'debug-restart', 'action.retrying'],
      ['soon', 'in 3 min', 'clock', 'action.scheduled'],
      ['hook', 'on webhook deploy', 'watch', 'action.waiting'],
    ]);
    const runs = history.children!.map((n) => [n.label, n.description, n.icon?.id, n.contextValue]);
    assert.deepStrictEqual(runs, [
      ['built', '1.2s · exit 0 · 2 min ago', 'pass', 'run.succeeded'],
      ['broke', '1m 57s · exit 2 · 3 s ago', 'error', 'run.failed'],
      ['sent', '1.2s · exit ? · 2 min ago', 'question', 'run.succeeded'],
    ]);
    assert.match(history.children![1].tooltip!, /Why: exit code 2/);
    const [, cut] = buildTree([folder([], [run({ name: 'cut', status: 'failed', exitCode: null, reason: 'recovered from restart' })])], now);
    assert.match(cut.children![0].description!, / · recovered · /);
  });

  it('names the upstream of an "after" action, shows empty groups, and one row per folder when there are several', () => {
    const up = action({ id: 'u1', name: 'build', status: 'waiting', dueAt: null, trigger: { kind: 'manual' } });
    const down = action({ id: 'd1', name: 'deploy', status: 'waiting', dueAt: null, trigger: { kind: 'after', after: ['u1'] } });
    const [queue] = buildTree([folder([up, down])], now);
    assert.strictEqual(queue.children!.find((n) => n.label === 'deploy')!.description, 'after build');
    const [, empty] = buildTree([folder([])], now);
    assert.deepStrictEqual(empty.children!.map((n) => n.label), ['No runs yet.']);
    const multi = buildTree([folder([]), { ...folder([]), name: 'other', path: '/o' }], now);
    assert.deepStrictEqual(multi.map((n) => [n.kind, n.label, n.children!.map((c) => c.label)]), [
      ['folder', 'proj', ['Queue', 'History']],
      ['folder', 'other', ['Queue', 'History']],
    ]);
    assert.notStrictEqual(multi[0].children![0].id, multi[1].children![0].id);
  });

  it('lists the webhook inbox once there is a webhook action: what each delivery ran, and how to post', () => {
    const hook = action({ id: 'h1', name: 'deploy', status: 'waiting', dueAt: null, trigger: { kind: 'webhook', hook: 'release' } });
    const none = buildTree([folder([action({ name: 'plain', dueAt: now + 5000 })])], now);
    assert.deepStrictEqual(none.map((n) => n.label), ['Queue', 'History'], 'no webhook group without webhooks');
    const delivery = (over: Partial<Delivery>): Delivery => ({
      id: 'd1', hook: 'release', externalId: null, status: 'processed', receivedAt: now - 120_000, processedAt: now - 119_900,
      source: '127.0.0.1', headers: { 'content-type': 'application/json' }, size: 42, sha256: 'x', replayOf: null,
      actions: [{ id: 'h1', name: 'deploy' }], ...over,
    });
    const emptyInbox = buildTree([{ ...folder([hook]), webhookUrl: 'http://127.0.0.1:4000' }], now)[2];
    assert.deepStrictEqual([emptyInbox.label, emptyInbox.description], ['Webhooks', '0 · http://127.0.0.1:4000']);
    assert.strictEqual(emptyInbox.children![0].label, 'No deliveries yet. POST to http://127.0.0.1:4000/hooks/release');
    const inbox = buildTree(
      [{ ...folder([hook]), webhookUrl: 'http://127.0.0.1:4000', deliveries: [delivery({ id: 'd2', status: 'received', actions: [], receivedAt: now - 1000 }), delivery({}), delivery({ id: 'd0', actions: [] })] }],
      now,
    )[2];
    assert.deepStrictEqual(inbox.children!.map((n) => [n.label, n.description, n.contextValue, n.deliveryId]), [
      ['release', 'received, runs on the next tick · 1 s ago', 'delivery.received', 'd2'],
      ['release', 'ran deploy · 2 min ago', 'delivery.processed', 'd1'],
      ['release', 'no action on this hook · 2 min ago', 'delivery.processed', 'd0'],
    ]);
    assert.match(inbox.children![1].tooltip!, /42 bytes · application\/json/);
  });

  it('shows why nothing runs instead of the groups (untrusted, not started)', () => {
    const [row] = buildTree([{ ...folder([]), notice: { text: 'Workspace not trusted: nothing runs here.', icon: 'workspace-untrusted', command: 'workbench.trust.manage' } }], now);
    assert.deepStrictEqual([row.kind, row.label, row.command], ['message', 'Workspace not trusted: nothing runs here.', 'workbench.trust.manage']);
  });
});

describe('Show Webhook Delivery', () => {
  const d: Delivery = {
    id: 'd1', hook: 'release', externalId: 'gh-1', status: 'processed', receivedAt: now, processedAt: now + 5,
    source: '127.0.0.1', headers: { 'content-type': 'application/json', 'x-github-event': 'push' }, size: 16, sha256: 'ab',
    replayOf: null, actions: [{ id: 'a1', name: 'deploy' }],
  };
  it('pretty-prints a JSON body under the headers and says what it ran', () => {
    const text = renderDelivery(d, Buffer.from('{"ref":"main","n":1}'), []);
    assert.match(text, /queued a run of "deploy"/);
    assert.match(text, /x-github-event: push/);
    assert.match(text, /── body ──\n\{\n {2}"ref": "main",\n {2}"n": 1\n\}/);
    assert.match(text, /sender's delivery id: gh-1/);
  });
  it('shows text as it is and does not dump binary', () => {
    assert.match(renderDelivery(d, Buffer.from('a=1&b=2'), []), /── body ──\na=1&b=2\n$/);
    assert.match(renderDelivery(d, Buffer.from([0xff, 0x00, 0x01]), []), /\(binary, 3 bytes/);
    assert.match(renderDelivery(d, undefined, []), /no longer stored/);
  });
});

describe('status bar', () => {
  const ticking = { kind: 'ticking' as const, tick: 10, tickMs: 500, lastTickMs: 0.31, running: 0, queued: 2, nextDueAt: now + 180_000, folders: 1 };
  it('pulses with each tick and says what comes next', () => {
    const a = renderStatus(ticking, now);
    const b = renderStatus({ ...ticking, tick: 11 }, now);
    assert.strictEqual(a.text, '$(circle-filled) SDLC: next in 3 min');
    assert.strictEqual(b.text, '$(circle-outline) SDLC: next in 3 min');
    assert.match(a.tooltip, /Tick every 500 ms · last tick took 0\.31 ms · tick #10/);
    assert.match(a.tooltip, /2 queued · 0 running/);
  });
  it('renders running, idle, paused, following, untrusted and error', () => {
    assert.match(renderStatus({ ...ticking, running: 2 }, now).text, /\$\(sync~spin\) 2 running/);
    assert.match(renderStatus({ ...ticking, nextDueAt: null }, now).text, /SDLC: idle$/);
    const paused = renderStatus({ kind: 'paused', queued: 3 }, now);
    assert.deepStrictEqual([paused.text, paused.tone], ['$(debug-pause) SDLC: paused', 'warning']);
    assert.match(renderStatus({ kind: 'following', owner: 'vscode, pid 42', running: 1, queued: 0 }, now).tooltip, /vscode, pid 42/);
    const untrusted = renderStatus({ kind: 'untrusted' }, now);
    assert.match(untrusted.tooltip, /not trusted, so nothing runs/);
    const error = renderStatus({ kind: 'error', message: 'disk full' }, now);
    assert.deepStrictEqual([error.tone, /disk full/.test(error.tooltip)], ['error', true]);
  });
  it('says times relative to now', () => {
    assert.strictEqual(relativeTime(now + 45_000, now), 'in 45 s');
    assert.strictEqual(relativeTime(now - 7_200_000, now), '2 h ago');
    assert.strictEqual(relativeTime(now - 200, now), 'just now');
  });
});

describe('the actions file in the editor (CodeLens, hover, tree marks)', () => {
  const def = parseActionsFile('actions:\n  tests:\n    run: npm test\n    cron: "0 3 * * 1-5"\n', 'actions.yaml', { now }).actions[0];

  it('an action not applied yet says why; one waiting for approval offers the review', () => {
    assert.deepStrictEqual(lensesFor(def, undefined, undefined, true, now).map((l) => l.title), ['$(warning) not applied: the file has problems (see Problems)']);
    assert.deepStrictEqual(lensesFor(def, undefined, undefined, false, now).map((l) => l.title), ['$(circle-outline) not applied yet']);
    const gated = lensesFor(def, action({ source: 'file', needsApproval: true, status: 'paused' }), undefined, false, now);
    assert.deepStrictEqual(gated.map((l) => [l.title, l.command]), [['$(shield) Needs your approval to run: Review…', 'sdlc.approveActions']]);
  });

  it('an applied action: Run Now, its next run, and how its last run went', () => {
    const a = action({ source: 'file', status: 'scheduled', dueAt: now + 3 * 3_600_000 });
    assert.deepStrictEqual(
      lensesFor(def, a, undefined, false, now).map((l) => [l.title, l.command]),
      [['$(play) Run Now', 'sdlc.runFileAction'], ['$(clock) next in 3 h', undefined], ['never run yet', undefined]],
    );
    const failed = { status: 'failed' as const, exitCode: 2, reason: 'exit code 2', startedAt: now - 120_000, endedAt: now - 120_000 };
    assert.strictEqual(lensesFor(def, a, failed, false, now)[2].title, 'last: $(error) failed (exit 2) 2 min ago');
    const ok = { status: 'succeeded' as const, exitCode: 0, reason: null, startedAt: now - 5000, endedAt: now - 4000 };
    assert.strictEqual(lensesFor(def, a, ok, false, now)[2].title, 'last: $(pass) succeeded 4 s ago');
  });

  it('a cron hover lists the next runs in the zone, or the problem', () => {
    const text = cronHover('0 3 * * 1-5', 'Europe/Berlin', Date.parse('2026-06-01T12:00:00Z'), 5);
    assert.match(text, /^\*\*Next 5 runs\*\* of `0 3 \* \* 1-5` \(Europe\/Berlin\):/);
    assert.strictEqual(text.split('\n').filter((l) => l.startsWith('- ')).length, 5);
    assert.match(text, /- 2 Jun 2026, 03:00 —/);
    assert.match(cronHover('61 * * * *', undefined, now), /invalid/);
  });

  it('the tree marks file actions and those waiting for approval', () => {
    const folder: FolderView = {
      name: 'f',
      path: '/f',
      actions: [action({ id: 'l', name: 'local', status: 'waiting', trigger: { kind: 'manual' } }), action({ id: 'g', name: 'shared', status: 'paused', source: 'file', needsApproval: true }), action({ id: 's', name: 'scheduled', status: 'scheduled', source: 'file' })],
      history: [],
      deliveries: [],
    };
    const queue = buildTree([folder], now)[0].children!;
    const row = (label: string) => queue.find((n) => n.label === label)!;
    assert.deepStrictEqual([row('local').description, row('local').contextValue], ['manual', 'action.waiting']);
    assert.deepStrictEqual([row('shared').description, row('shared').contextValue, row('shared').icon?.id], ['needs approval · actions.yaml', 'action.approval.file', 'shield']);
    assert.deepStrictEqual([row('scheduled').description, row('scheduled').contextValue], ['in 1 min · actions.yaml', 'action.scheduled.file']);
  });
});
