// Flows on a real engine: real sql.js, real shells, a real git repository for worktrees, the
// real CLI as a child process for the crash. Each test ends with `verify` clean: the lifecycle
// log accounts for every flow run and step.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Orchestrator } from '../../src/core/orchestrator';
import type { Flow } from '../../src/core/model';
import { layoutFlow, neighbour } from '../../webview/flowLayout';
import { outputsEnv, parseOutputs } from '../../src/core/flows/outputs';
import { groupFlows } from '../../src/extension/model/treeModel';
import { cli, cliJson, engine, exited, lines, readFolder, sleep, spawnCli, tmpWorkspace, untilOwner, verifyClean, waitFor } from './helpers';

/** Each step appends "<name> start|end <ms>" to log.txt, so order and overlap can be checked. */
const logged = (name: string, body = '') => `echo "${name} start $(date +%s%3N)" >> log.txt; ${body} echo "${name} end $(date +%s%3N)" >> log.txt`;

function events(ws: string): { name: string; what: string; at: number }[] {
  return lines(path.join(ws, 'log.txt')).map((l) => {
    const [name, what, at] = l.split(' ');
    return { name, what, at: Number(at) };
  });
}

async function flowEnded(o: Orchestrator, rootName: string, timeoutMs = 10_000): Promise<Flow & { runs: { name: string }[] }> {
  let found: (Flow & { runs: { name: string }[] }) | undefined;
  await waitFor(
    () => {
      const f = o.listFlows(10).find((x) => x.name === rootName);
      found = f && f.status !== 'running' ? o.getFlow(f.flowId) : undefined;
      return found !== undefined;
    },
    timeoutMs,
    `the flow of ${rootName} to end`,
  );
  return found!;
}

const stepOf = (f: Flow, name: string) => f.steps!.find((s) => s.name === name)!;

describe('flows: fan-in graphs, conditions, outputs, re-runs, priorities, worktrees', function () {
  this.timeout(60_000);
  let ws: string;
  let o: Orchestrator | undefined;

  beforeEach(() => {
    ws = tmpWorkspace();
  });
  /** Every test ends so: the engine stopped, and the lifecycle log accounting for every flow and step. */
  const stopAndVerify = async () => {
    await o?.stop();
    o = undefined;
    await verifyClean(ws);
  };
  afterEach(async () => {
    await o?.stop();
    o = undefined;
    fs.rmSync(ws, { recursive: true, force: true });
  });

  it('a diamond (a → b, c → d) runs b and c in parallel and d once, after both', async () => {
    o = await engine(ws, { tickMs: 20 });
    await o.add([
      { name: 'a', trigger: { kind: 'manual' }, run: { command: logged('a') } },
      { name: 'b', trigger: { kind: 'after', after: 'a' }, run: { command: logged('b', 'sleep 0.4;') } },
      { name: 'c', trigger: { kind: 'after', after: 'a' }, run: { command: logged('c', 'sleep 0.4;') } },
      { name: 'd', trigger: { kind: 'after', after: ['b', 'c'] }, run: { command: logged('d') } },
    ]);
    await o.runNow('a');
    const flow = await flowEnded(o, 'a');
    assert.strictEqual(flow.status, 'succeeded');
    assert.deepStrictEqual(flow.steps!.map((s) => [s.name, s.status]), [['a', 'succeeded'], ['b', 'succeeded'], ['c', 'succeeded'], ['d', 'succeeded']]);
    assert.deepStrictEqual(stepOf(flow, 'd').upstreams.sort(), [stepOf(flow, 'b').actionId, stepOf(flow, 'c').actionId].sort());
    const ev = events(ws);
    const at = (name: string, what: string) => ev.filter((e) => e.name === name && e.what === what).map((e) => e.at);
    assert.strictEqual(at('d', 'start').length, 1, 'd ran once');
    assert.ok(at('b', 'start')[0] < at('c', 'end')[0] && at('c', 'start')[0] < at('b', 'end')[0], 'b and c overlapped');
    assert.ok(at('d', 'start')[0] >= Math.max(at('b', 'end')[0], at('c', 'end')[0]), 'd started after both ended');
    // Every run carries the flow, and the CLI shows it by name.
    assert.deepStrictEqual(new Set(o.history(10).map((r) => r.flowId)), new Set([flow.flowId]));
    const shown = cli(['flow', '--workspace', ws, flow.flowId.slice(0, 8)]);
    assert.strictEqual(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /d\s+succeeded.*after b, c/);
    await stopAndVerify();
  });

  it('if: failure and if: always run after a failure, success steps are skipped with the reason, and the flow fails', async () => {
    o = await engine(ws, { tickMs: 20 });
    await o.add([
      { name: 'build', trigger: { kind: 'manual' }, run: { command: 'echo building; exit 3' } },
      { name: 'test', trigger: { kind: 'after', after: 'build' }, run: { command: logged('test') } },
      { name: 'package', trigger: { kind: 'after', after: 'test' }, run: { command: logged('package') } },
      { name: 'report', trigger: { kind: 'after', after: ['package'], if: 'failure' }, run: { command: logged('report') } },
      { name: 'cleanup', trigger: { kind: 'after', after: 'build', if: 'always' }, run: { command: logged('cleanup') } },
      { name: 'celebrate', trigger: { kind: 'after', after: 'cleanup', if: 'failure' }, run: { command: logged('celebrate') } },
    ]);
    await o.runNow('build');
    const flow = await flowEnded(o, 'build');
    assert.strictEqual(flow.status, 'failed');
    assert.match(flow.reason ?? '', /"build" failed/);
    const status = Object.fromEntries(flow.steps!.map((s) => [s.name, s.status]));
    assert.deepStrictEqual(status, { build: 'failed', test: 'skipped', package: 'skipped', report: 'succeeded', cleanup: 'succeeded', celebrate: 'succeeded' });
    assert.match(stepOf(flow, 'test').reason!, /upstream "build" failed/);
    assert.match(stepOf(flow, 'package').reason!, /upstream "test" skipped/);
    const ran = new Set(events(ws).map((e) => e.name));
    assert.deepStrictEqual([...ran].sort(), ['celebrate', 'cleanup', 'report']);

    // When everything passes, failure steps are skipped and always steps still run.
    await o.add({ name: 'ok', trigger: { kind: 'manual' }, run: { command: 'true' } });
    await o.add([
      { name: 'on-fail', trigger: { kind: 'after', after: 'ok', if: 'failure' }, run: { command: logged('on-fail') } },
      { name: 'always', trigger: { kind: 'after', after: 'ok', if: 'always' }, run: { command: logged('always') } },
    ]);
    await o.runNow('ok');
    const good = await flowEnded(o, 'ok');
    assert.strictEqual(good.status, 'succeeded');
    assert.strictEqual(stepOf(good, 'on-fail').status, 'skipped');
    assert.match(stepOf(good, 'on-fail').reason!, /nothing upstream failed/);
    assert.strictEqual(stepOf(good, 'always').status, 'succeeded');
    await stopAndVerify();
  });

  it('passes outputs: key=value and key<<EOF lines in $SDLC_OUTPUT become SDLC_OUT_<ACTION>_<KEY> downstream', async () => {
    o = await engine(ws, { tickMs: 20 });
    await o.add([
      {
        name: 'build-app',
        trigger: { kind: 'manual' },
        run: { command: `echo "version=1.2.3" >> "$SDLC_OUTPUT"; printf 'notes<<EOF\\nline one\\nline two\\nEOF\\n' >> "$SDLC_OUTPUT"; echo "not an output" >> "$SDLC_OUTPUT"; echo "$SDLC_FLOW_ID" > flow-a.txt` },
      },
      {
        name: 'publish',
        trigger: { kind: 'after', after: 'build-app' },
        run: { command: 'echo "$SDLC_OUT_BUILD_APP_VERSION" > version.txt; echo "$SDLC_OUT_BUILD_APP_NOTES" > notes.txt; echo "$SDLC_FLOW_ID" > flow-b.txt' },
      },
    ]);
    await o.runNow('build-app');
    const flow = await flowEnded(o, 'build-app');
    assert.strictEqual(flow.status, 'succeeded');
    assert.strictEqual(fs.readFileSync(path.join(ws, 'version.txt'), 'utf8'), '1.2.3\n');
    assert.strictEqual(fs.readFileSync(path.join(ws, 'notes.txt'), 'utf8'), 'line one\nline two\n');
    assert.strictEqual(fs.readFileSync(path.join(ws, 'flow-a.txt'), 'utf8').trim(), flow.flowId);
    assert.strictEqual(fs.readFileSync(path.join(ws, 'flow-b.txt'), 'utf8').trim(), flow.flowId);
    const run = o.store.getRun(stepOf(flow, 'build-app').runId!)!;
    assert.deepStrictEqual(run.outputs, { version: '1.2.3', notes: 'line one\nline two' });
    const ended = o.eventsSince(0).find((e) => e.type === 'flow.step' && e.runId === run.runId && e.data.status === 'succeeded')!;
    assert.deepStrictEqual(ended.data.outputProblems, ['line 6: not key=value']);
    await waitFor(() => !fs.existsSync(path.join(ws, '.sdlc', 'runs', `${run.runId}.output`)), 2000, 'the output file removed once recorded');
    await stopAndVerify();
  });

  it('refuses a cycle through several upstreams, with its path, at add and in the actions file', async () => {
    o = await engine(ws, { tickMs: 20 });
    await assert.rejects(
      o.add([
        { name: 'lint', trigger: { kind: 'manual' }, run: { command: 'true' } },
        { name: 'build', trigger: { kind: 'after', after: ['lint', 'deploy'] }, run: { command: 'true' } },
        { name: 'test', trigger: { kind: 'after', after: ['build'] }, run: { command: 'true' } },
        { name: 'deploy', trigger: { kind: 'after', after: ['test', 'lint'] }, run: { command: 'true' } },
      ]),
      /dependency cycle: (build → deploy → test → build|deploy → test → build → deploy|test → build → deploy → test)/,
    );
    assert.strictEqual(o.listActions().length, 0);
    await o.stop();
    o = undefined;
    fs.mkdirSync(path.join(ws, '.sdlc'), { recursive: true });
    fs.writeFileSync(
      path.join(ws, '.sdlc', 'actions.yaml'),
      'actions:\n  lint:\n    run: "true"\n    manual: true\n  build:\n    run: "true"\n    after: [lint, deploy]\n  test:\n    run: "true"\n    after: build\n  deploy:\n    run: "true"\n    after: [test, lint]\n',
    );
    const r = cli(['validate', '--workspace', ws]);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr + r.stdout, /actions\.yaml:7:12: build: dependency cycle through "after": build → deploy → test → build/);
  });

  it('re-run failed runs the failed step and what follows it in the same flow, reusing the outputs of steps that passed', async () => {
    o = await engine(ws, { tickMs: 20 });
    await o.add([
      { name: 'a', trigger: { kind: 'manual' }, run: { command: `echo "token=t-$(date +%s%N)" >> "$SDLC_OUTPUT"; ${logged('a')}` } },
      { name: 'b', trigger: { kind: 'after', after: 'a' }, run: { command: `echo "$SDLC_OUT_A_TOKEN" >> tokens.txt; ${logged('b')}; test -f fixed` } },
      { name: 'side', trigger: { kind: 'after', after: 'a' }, run: { command: logged('side') } },
      { name: 'c', trigger: { kind: 'after', after: ['b', 'side'] }, run: { command: logged('c') } },
    ]);
    await o.runNow('a');
    const first = await flowEnded(o, 'a');
    assert.strictEqual(first.status, 'failed');
    assert.strictEqual(stepOf(first, 'c').status, 'skipped');
    fs.writeFileSync(path.join(ws, 'fixed'), '');
    // Refused while running or after a success; allowed once failed.
    const again = await o.rerunFlow(first.flowId.slice(0, 8));
    assert.strictEqual(again.flowId, first.flowId);
    await waitFor(() => o!.getFlow(first.flowId)!.status !== 'running', 10_000, 'the re-run');
    const second = o.getFlow(first.flowId)!;
    assert.strictEqual(second.status, 'succeeded');
    assert.strictEqual(second.attempt, 2);
    assert.deepStrictEqual(second.steps!.map((s) => [s.name, s.status, s.attempt]), [['a', 'succeeded', 1], ['b', 'succeeded', 2], ['side', 'succeeded', 1], ['c', 'succeeded', 1]]);
    const starts = events(ws).filter((e) => e.what === 'start').map((e) => e.name);
    assert.deepStrictEqual(starts.filter((n) => n === 'a').length, 1, 'a is not run again');
    assert.deepStrictEqual(starts.filter((n) => n === 'side').length, 1, 'a step that passed is not run again');
    const tokens = lines(path.join(ws, 'tokens.txt'));
    assert.strictEqual(tokens.length, 2);
    assert.strictEqual(tokens[0], tokens[1], 'the re-run got the same outputs of a');
    assert.strictEqual(o.getFlow(first.flowId)!.runs.filter((r) => r.name === 'b').length, 2);
    await assert.rejects(o.rerunFlow(first.flowId), /succeeded; nothing to re-run/);
    await stopAndVerify();
  });

  it('cancelling a flow stops its running step and cancels what has not run', async () => {
    o = await engine(ws, { tickMs: 20 });
    await o.add([
      { name: 'a', trigger: { kind: 'manual' }, run: { command: 'true' } },
      { name: 'slow', trigger: { kind: 'after', after: 'a' }, run: { command: 'sleep 30' } },
      { name: 'after-slow', trigger: { kind: 'after', after: 'slow' }, run: { command: logged('after-slow') } },
      { name: 'finally', trigger: { kind: 'after', after: 'slow', if: 'always' }, run: { command: logged('finally') } },
    ]);
    await o.runNow('a');
    await waitFor(() => o!.listFlows(1)[0]?.flowId !== undefined && stepOf(o!.getFlow(o!.listFlows(1)[0].flowId)!, 'slow').status === 'running', 5000, 'slow to run');
    const flowId = o.listFlows(1)[0].flowId;
    const cancelled = await o.cancelFlow(flowId);
    assert.strictEqual(cancelled.status, 'cancelled');
    const f = o.getFlow(flowId)!;
    assert.deepStrictEqual(f.steps!.map((s) => [s.name, s.status]), [['a', 'succeeded'], ['slow', 'cancelled'], ['after-slow', 'cancelled'], ['finally', 'cancelled']]);
    await sleep(300);
    assert.deepStrictEqual(events(ws), [], 'nothing after the cancel ran');
    assert.strictEqual(o.getAction('slow')!.status, 'waiting', 'the action itself goes on waiting for its next flow');
    await assert.rejects(o.cancelFlow(flowId), /already cancelled/);
    await stopAndVerify();
  });

  it('higher priority first, then round-robin between actions, with max-concurrent 1', async () => {
    o = await engine(ws, { tickMs: 20, maxConcurrent: 1 });
    await o.add([
      { name: 'low', trigger: { kind: 'manual' }, run: { command: 'echo low >> order.txt' } },
      { name: 'flood', trigger: { kind: 'manual' }, run: { command: 'echo flood >> order.txt' } },
      { name: 'urgent', trigger: { kind: 'manual' }, run: { command: 'echo urgent >> order.txt' }, policy: { priority: 5 } },
    ]);
    await o.pause();
    for (let i = 0; i < 4; i++) await o.runNow('flood');
    await sleep(5);
    for (let i = 0; i < 2; i++) await o.runNow('low');
    await o.runNow('urgent');
    await o.runNow('urgent');
    await o.resume();
    await waitFor(() => lines(path.join(ws, 'order.txt')).length === 8, 10_000, 'all eight runs');
    assert.deepStrictEqual(lines(path.join(ws, 'order.txt')), ['urgent', 'urgent', 'flood', 'low', 'flood', 'low', 'flood', 'flood']);
    await stopAndVerify();
  });

  it('a worktree step sees the committed file, not the edited one, and leaves no worktree after a success; a failure keeps its worktree', async () => {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ws, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 't@example.com');
    git('config', 'user.name', 'T');
    fs.writeFileSync(path.join(ws, 'value.txt'), 'committed\n');
    git('add', 'value.txt');
    git('commit', '-q', '-m', 'one');
    const head = git('rev-parse', 'HEAD').trim();
    fs.writeFileSync(path.join(ws, 'value.txt'), 'half-edited\n');
    const out = path.join(ws, '..', `${path.basename(ws)}-seen.txt`);
    o = await engine(ws, { tickMs: 20 });
    await o.add([
      { name: 'start', trigger: { kind: 'manual' }, run: { command: 'true' } },
      { name: 'check', trigger: { kind: 'after', after: 'start' }, run: { command: `cat value.txt > "${out}"; echo "$SDLC_COMMIT" >> "${out}"; pwd >> "${out}"`, isolation: 'worktree' } },
      { name: 'broken', trigger: { kind: 'after', after: 'start' }, run: { command: 'echo broken > here.txt; exit 1', isolation: 'worktree' } },
    ]);
    await o.runNow('start');
    const flow = await flowEnded(o, 'start', 20_000);
    const [seen, commit, where] = fs.readFileSync(out, 'utf8').split('\n');
    fs.rmSync(out, { force: true });
    assert.strictEqual(seen, 'committed');
    assert.strictEqual(commit, head);
    assert.match(where, /\.sdlc\/worktrees\/[0-9a-f-]{36}$/);
    assert.strictEqual(fs.readFileSync(path.join(ws, 'value.txt'), 'utf8'), 'half-edited\n', 'the open folder is untouched');
    assert.strictEqual(o.store.getFlow(flow.flowId)!.commit, head);
    const checkRun = stepOf(flow, 'check').runId!;
    const brokenRun = o.store.getRun(stepOf(flow, 'broken').runId!)!;
    assert.ok(!fs.existsSync(path.join(ws, '.sdlc', 'worktrees', checkRun)), 'removed after the success');
    assert.strictEqual(brokenRun.status, 'failed');
    assert.ok(brokenRun.worktree && fs.existsSync(path.join(brokenRun.worktree, 'here.txt')), 'kept after the failure, with what the step left');
    const listed = git('worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree '));
    assert.strictEqual(listed.length, 2, `git knows the main worktree and the failed step's: ${listed.join(', ')}`);
    await o.stop();
    o = undefined;
    // A crash's leftovers and pruned failures go when an owner next starts.
    fs.mkdirSync(path.join(ws, '.sdlc', 'worktrees', '00000000-0000-4000-8000-000000000000'), { recursive: true });
    o = await engine(ws, { tickMs: 20, retention: { maxRuns: 1 } });
    await o.clearHistory();
    await o.stop();
    o = await engine(ws, { tickMs: 20 });
    await waitFor(() => fs.readdirSync(path.join(ws, '.sdlc', 'worktrees')).length === 0, 10_000, 'the worktrees to be cleaned up');
    await waitFor(() => git('worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length === 1, 5000, 'git to forget them');
    await stopAndVerify();
  });

  it('SIGKILL mid-flow, then a restart: the flow continues and no finished step runs again', async () => {
    const add = (name: string, extra: string[]) => cliJson(['add', '--workspace', ws, '--name', name, ...extra]);
    add('one', ['--manual', '--run', 'echo one >> ran.txt']);
    add('two', ['--after', 'one', '--run', 'echo two-start >> ran.txt; sleep 1.5; echo two >> ran.txt']);
    add('three', ['--after', 'two', '--after', 'one', '--run', 'echo three >> ran.txt']);
    let child = spawnCli(['run', '--workspace', ws, '--tick', '20', '--quiet']);
    assert.ok(await untilOwner(ws, child));
    cliJson(['run-now', '--workspace', ws, 'one']);
    await waitFor(() => lines(path.join(ws, 'ran.txt')).includes('two-start'), 10_000, 'two to start');
    child.kill('SIGKILL');
    await exited(child);
    child = spawnCli(['run', '--workspace', ws, '--tick', '20', '--quiet', '--exit-when-idle']);
    await exited(child);
    assert.deepStrictEqual(lines(path.join(ws, 'ran.txt')), ['one', 'two-start', 'two', 'three']);
    const flows = cliJson<Flow[]>(['flows', '--workspace', ws]);
    assert.strictEqual(flows.length, 1);
    assert.strictEqual(flows[0].status, 'succeeded');
    const flow = await readFolder(ws, (db) => db.store.flowWithSteps(flows[0].flowId)!);
    assert.deepStrictEqual(flow.steps!.map((s) => [s.name, s.status, s.attempt]), [['one', 'succeeded', 1], ['two', 'succeeded', 1], ['three', 'succeeded', 1]]);
    const v = cli(['verify', '--workspace', ws]);
    assert.strictEqual(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /1 flow run/);
  });

  it('a step retried by its policy stays one step of the flow; what follows runs once, after the retry succeeds', async () => {
    o = await engine(ws, { tickMs: 20 });
    await o.add([
      { name: 'root', trigger: { kind: 'manual' }, run: { command: 'true' } },
      { name: 'flaky', trigger: { kind: 'after', after: 'root' }, run: { command: 'test -f tried || { touch tried; exit 1; }' }, policy: { maxAttempts: 2, backoff: '50ms' } },
      { name: 'after-flaky', trigger: { kind: 'after', after: 'flaky' }, run: { command: 'echo ran >> after.txt' } },
    ]);
    await o.runNow('root');
    const flow = await flowEnded(o, 'root');
    assert.strictEqual(flow.status, 'succeeded');
    const flaky = stepOf(flow, 'flaky');
    assert.deepStrictEqual([flaky.status, flaky.attempt], ['succeeded', 1]);
    assert.strictEqual(o.store.getRun(flaky.runId!)!.attempt, 2, 'its latest run is the retry');
    assert.strictEqual(flow.runs.filter((r) => r.name === 'flaky').length, 2, 'both tries are runs of the flow');
    assert.deepStrictEqual(lines(path.join(ws, 'after.txt')), ['ran']);
    await stopAndVerify();
  });

  it('reads outputs as GitHub reads GITHUB_OUTPUT, and names each line it cannot take', () => {
    const r = parseOutputs('a=1\nb = two=2\n1bad=x\nnul=x\u0000y\nmulti<<END\nl1\n\nl3\nEND\nopen<<NEVER\nz\n');
    assert.deepStrictEqual(r.outputs, { a: '1', b: ' two=2', multi: 'l1\n\nl3' });
    assert.deepStrictEqual(r.problems, [
      'line 3: "1bad" is not a key (letters, digits, "_" and "-", not starting with a digit)',
      'line 4: the value of "nul" holds a NUL byte, which no environment variable can',
      'line 10: "open<<NEVER" is never closed by a line "NEVER"',
    ]);
    const many = parseOutputs(Array.from({ length: 101 }, (_, i) => `k${i}=v`).join('\n'));
    assert.strictEqual(Object.keys(many.outputs).length, 100);
    assert.match(many.problems[0], /more than 100 keys/);
    assert.deepStrictEqual(outputsEnv([{ name: 'build-app.v2', outputs: { 'x-y': '1' } }]), { SDLC_OUT_BUILD_APP_V2_X_Y: '1' });
  });

  it('lays a flow out in columns by depth, edges from each upstream, arrow keys along the graph', () => {
    const step = (actionId: string, upstreams: string[]) => ({ actionId, name: actionId, cond: 'success' as const, upstreams, status: 'waiting' as const, runId: null, attempt: 0, reason: null, position: 0, startedAt: null, endedAt: null });
    const layout = layoutFlow({ steps: [step('a', []), step('b', ['a']), step('c', ['a']), step('d', ['b', 'c']), step('e', ['a', 'd'])] });
    assert.deepStrictEqual(layout.columns, [['a'], ['b', 'c'], ['d'], ['e']]);
    assert.strictEqual(layout.edges.length, 6);
    assert.ok(layout.edges.every((e) => /^M [\d.]+ [\d.]+ C /.test(e.d)));
    assert.strictEqual(neighbour(layout, 'a', 'ArrowRight'), 'b');
    assert.strictEqual(neighbour(layout, 'b', 'ArrowDown'), 'c');
    assert.strictEqual(neighbour(layout, 'c', 'ArrowRight'), 'd', 'the nearest row of the next column');
    assert.strictEqual(neighbour(layout, 'a', 'ArrowLeft'), undefined);
    assert.ok(layout.width > 4 * 176 && layout.height >= 2 * 50);
  });

  it('the tree groups a flow\'s runs under one row, in the order they started, and leaves other runs alone', () => {
    const now = Date.now();
    const r = (runId: string, name: string, flowId: string | null, endedAt: number) => ({
      runId, actionId: name, name, runner: 'process', status: 'succeeded' as const, attempt: 1, startedAt: endedAt - 10, endedAt, exitCode: 0, reason: null, outputTail: '', cause: 'manual', flowId,
    });
    const history = [r('r4', 'package', 'f1', now - 1), r('r3', 'lone', null, now - 2), r('r2', 'test', 'f1', now - 3), r('r1', 'build', 'f1', now - 4)];
    const flows = [{ flowId: 'f1', rootActionId: 'build', name: 'build', status: 'succeeded' as const, startedAt: now - 20, endedAt: now - 1, commit: null, reason: null, attempt: 1 }];
    const nodes = groupFlows(history, flows, '/ws', now, (x) => ({ id: x.runId, kind: 'run', label: x.name }));
    assert.deepStrictEqual(nodes.map((n) => [n.kind, n.label]), [['flow', 'build flow'], ['run', 'lone']]);
    assert.deepStrictEqual(nodes[0].children!.map((n) => n.label), ['build', 'test', 'package']);
    assert.strictEqual(nodes[0].contextValue, 'flow.succeeded');
    assert.match(nodes[0].description!, /^succeeded · 3 runs/);
  });
});
