// Development-event triggers on a real engine: a real chokidar watcher on real folders, real
// git repositories (git from Debian), real child processes, real sql.js. Every test ends with
// the lifecycle log accounting for the tables (verify clean).
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseActionsFile } from '../../src/core/definitions/actionsFile';
import type { ActionInput } from '../../src/core/model';
import { chokidarFileWatcher } from '../../src/core/triggers/fileWatch';
import type { Orchestrator } from '../../src/core/orchestrator';
import { captureLogger, cli, engine, lines, sleep, tmpWorkspace, verifyClean, waitFor } from './helpers';

const hasGit = !spawnSync('git', ['--version']).error;

function gitIn(ws: string) {
  return (...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', '-c', 'init.defaultBranch=main', ...args], { cwd: ws, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
}

/** A fresh repository on `main` with one commit. */
function repoWithOneCommit(ws = tmpWorkspace()) {
  const git = gitIn(ws);
  git('init', '-q');
  fs.writeFileSync(path.join(ws, 'a.txt'), '1');
  git('add', 'a.txt');
  git('commit', '-q', '-m', 'first');
  return { ws, git };
}

/** A file outside the workspace each run appends a line to: what the run was told. */
function logFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sdlc-devlog-')), 'runs.log');
}

/** The action's runs have all ended (a change made before that is its own, by design). */
const idle = (o: Orchestrator, name: string) => waitFor(() => o.getAction(name)!.running === 0 && o.getAction(name)!.pending === 0, 5000, `${name} idle`);
const runsOf = (o: Orchestrator, name: string) => o.store.runsOf(o.getAction(name)!.id, 1000).reverse();

describe('development-event triggers', function () {
  this.timeout(40_000);
  const running: Orchestrator[] = [];
  const start = async (ws: string, opts: Parameters<typeof engine>[1] = {}) => {
    const o = await engine(ws, { tickMs: 50, ...opts });
    running.push(o);
    return o;
  };
  const add = async (o: Orchestrator, input: ActionInput) => {
    await o.add(input);
    await o.triggersReady();
  };
  afterEach(async () => {
    for (const o of running.splice(0)) await o.stop();
  });

  describe('on-change', () => {
    it('one write is one run; a burst of 200 files is one run told every path; other files and node_modules do nothing', async () => {
      const ws = tmpWorkspace();
      fs.mkdirSync(path.join(ws, 'src'));
      fs.mkdirSync(path.join(ws, 'node_modules', 'x', 'src'), { recursive: true });
      const log = logFile();
      const o = await start(ws);
      await add(o, {
        name: 'lint',
        trigger: { kind: 'change', paths: ['src/**/*.ts', '**/src/*.ts'], ignore: ['src/gen/**'] },
        run: { command: 'echo "$SDLC_CHANGED_COUNT $(tr "\\n" , < "$SDLC_CHANGED_FILES")" >> "$LOG"', env: { LOG: log } },
      });
      fs.writeFileSync(path.join(ws, 'src', 'a.ts'), 'a');
      await waitFor(() => lines(log).length === 1, 5000, 'one run');
      assert.strictEqual(lines(log)[0], '1 src/a.ts,');
      await idle(o, 'lint');
      fs.writeFileSync(path.join(ws, 'README.md'), 'no');
      fs.writeFileSync(path.join(ws, 'node_modules', 'x', 'src', 'b.ts'), 'ignored by default');
      fs.mkdirSync(path.join(ws, 'src', 'gen'));
      fs.writeFileSync(path.join(ws, 'src', 'gen', 'c.ts'), 'ignored by the action');
      // A user's writes, not a script's in the same millisecond as the run's end: file times
      // come from the kernel's coarse clock, and one that close to the end is taken for the run's.
      await sleep(50);
      for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(ws, 'src', `f${i}.ts`), String(i));
      await waitFor(() => lines(log).length === 2, 8000, 'the burst ran');
      await sleep(800);
      assert.strictEqual(lines(log).length, 2, 'a burst is one run');
      const [count, list] = lines(log)[1].split(' ');
      assert.strictEqual(count, '200');
      assert.strictEqual(list.split(',').filter(Boolean).length, 200);
      assert.ok(!list.includes('gen/') && !list.includes('node_modules') && !list.includes('README'));
      await idle(o, 'lint');
      fs.rmSync(path.join(ws, 'src', 'a.ts'));
      await waitFor(() => lines(log).length === 3, 5000, 'a deletion runs it too');
      assert.strictEqual(lines(log)[2], '1 src/a.ts,');
      const run = runsOf(o, 'lint')[0];
      assert.strictEqual(run.cause, 'change');
      const triggered = o.eventsOf(o.getAction('lint')!.id).filter((e) => e.type === 'task.triggered');
      assert.strictEqual(triggered.length, 3, 'three bursts, three events: never one per file');
      assert.strictEqual(triggered[1].data.changed, 200);
      // The command has written its line; its run ends, and its files go, a moment later.
      await idle(o, 'lint');
      await waitFor(() => !fs.readdirSync(path.join(ws, '.sdlc', 'runs')).some((f) => f.endsWith('.changed')), 2000, 'the list file removed with the run');
      await o.stop();
      await verifyClean(ws);
    });

    for (const watcher of ['native', 'chokidar'] as const)
    it(`a command that rewrites the file it watches runs once per change the user made (${watcher} watcher)`, async () => {
      const ws = tmpWorkspace();
      const log = logFile();
      fs.writeFileSync(path.join(ws, 'style.css'), 'a{}\n');
      const o = await start(ws, watcher === 'chokidar' ? { fileWatcher: chokidarFileWatcher } : {});
      // A "formatter": rewrites its own trigger file, twice, while it runs.
      await add(o, {
        name: 'format',
        trigger: { kind: 'change', paths: ['*.css'] },
        run: { command: 'echo run >> "$LOG"; printf "a { }\\n" > style.css; sleep 0.2; printf "a { }\\n\\n" > style.css', env: { LOG: log } },
      });
      fs.writeFileSync(path.join(ws, 'style.css'), 'a{color:red}\n');
      await waitFor(() => lines(log).length === 1, 5000, 'the formatter ran');
      await sleep(2500);
      assert.strictEqual(lines(log).length, 1, 'its own writes did not trigger it again');
      assert.ok(o.selfTriggersSuppressed >= 1, 'its writes were seen and dropped');
      await idle(o, 'format');
      fs.writeFileSync(path.join(ws, 'style.css'), 'b{}\n');
      await waitFor(() => lines(log).length === 2, 5000, 'the next change of the user runs it');
      await sleep(2500);
      assert.strictEqual(lines(log).length, 2);
      await o.stop();
      await verifyClean(ws);
    });

    // Four events, the last three while the first run is in flight: task ends (nothing a run
    // writes) for queue-one and skip, file changes for restart and parallel.
    const overlapCase = async (overlap: 'queue-one' | 'skip' | 'restart' | 'parallel') => {
      const ws = tmpWorkspace();
      const log = logFile();
      const o = await start(ws);
      const byTask = overlap === 'queue-one' || overlap === 'skip';
      await add(o, {
        name: 'slow',
        trigger: byTask ? { kind: 'afterTask', task: 'build', debounce: '50ms', overlap } : { kind: 'change', paths: ['in/*'], debounce: '50ms', overlap },
        run: { command: 'echo "start $SDLC_TASK_EXIT_CODE$SDLC_CHANGED_COUNT" >> "$LOG"; sleep 1.2; echo end >> "$LOG"', env: { LOG: log } },
      });
      const event = async (n: number) => (byTask ? o.taskEnded('build', n) : fs.writeFileSync(path.join(ws, 'in', String(n)), String(n)));
      fs.mkdirSync(path.join(ws, 'in'));
      await sleep(300);
      await event(1);
      await waitFor(() => lines(log).includes('start 1'), 5000, 'the first run started');
      for (const n of [2, 3, 4]) {
        await event(n);
        await sleep(150); // past the debounce: three separate bursts while it runs
      }
      await waitFor(() => o.getAction('slow')!.running === 0 && o.getAction('slow')!.pending === 0, 10_000, 'all settled');
      await sleep(300);
      const runs = runsOf(o, 'slow');
      const events = o.eventsSince(0, 10_000);
      await o.stop();
      await verifyClean(ws);
      return { runs, log: lines(log), events };
    };

    it('overlap queue-one: events during a run leave one run queued, with the newest event', async () => {
      const { runs, log, events } = await overlapCase('queue-one');
      assert.deepStrictEqual(runs.map((r) => r.status), ['succeeded', 'succeeded']);
      assert.deepStrictEqual(log, ['start 1', 'end', 'start 4', 'end']);
      assert.strictEqual(events.filter((e) => e.type === 'task.triggered' && e.data.coalesced).length, 2, 'two folded into the queued one');
    });

    it('overlap skip: events during a run are dropped, and recorded as skipped', async () => {
      const { runs, log, events } = await overlapCase('skip');
      assert.deepStrictEqual(runs.map((r) => r.status), ['succeeded']);
      assert.deepStrictEqual(log, ['start 1', 'end']);
      const skipped = events.filter((e) => e.type === 'task.skipped');
      assert.strictEqual(skipped.length, 3);
      assert.match(String(skipped[0].data.reason), /overlap: skip/);
    });

    it('overlap restart: a new event stops the run in flight and starts again', async () => {
      const { runs, log } = await overlapCase('restart');
      assert.deepStrictEqual(runs.map((r) => r.status), ['cancelled', 'cancelled', 'cancelled', 'succeeded']);
      assert.match(runs[0].reason!, /restarted: a new change event arrived/);
      assert.strictEqual(log.filter((l) => l === 'end').length, 1, 'only the last run got to its end');
    });

    it('overlap parallel: each burst starts its own run at once', async () => {
      const { runs, log } = await overlapCase('parallel');
      assert.strictEqual(runs.length, 4);
      assert.ok(runs.every((r) => r.status === 'succeeded'));
      assert.deepStrictEqual(log.slice(0, 4), ['start 1', 'start 1', 'start 1', 'start 1'], 'all four started before the first ended');
    });
  });

  describe('on-git', () => {
    before(function () {
      if (!hasGit) this.skip();
    });

    it('a commit, a branch switch and a fast-forward merge each run their action once, told the commits', async () => {
      const { ws, git } = repoWithOneCommit();
      const log = logFile();
      const o = await start(ws);
      const env = { LOG: log };
      const say = (what: string) => `echo "${what} $SDLC_GIT_EVENT $SDLC_GIT_BRANCH $SDLC_GIT_COMMIT $SDLC_GIT_PREVIOUS" >> "$LOG"`;
      await add(o, { name: 'on-commit', trigger: { kind: 'git', git: 'commit' }, run: { command: say('C'), env } });
      await add(o, { name: 'on-main', trigger: { kind: 'git', git: 'commit', branch: 'main' }, run: { command: say('M'), env } });
      await add(o, { name: 'on-switch', trigger: { kind: 'git', git: 'checkout', branch: 'feat*' }, run: { command: say('S'), env } });
      await add(o, { name: 'on-merge', trigger: { kind: 'git', git: 'merge' }, run: { command: say('G'), env } });
      const first = git('rev-parse', 'HEAD');

      fs.writeFileSync(path.join(ws, 'a.txt'), '2');
      git('commit', '-q', '-am', 'second');
      const second = git('rev-parse', 'HEAD');
      await waitFor(() => lines(log).length === 2, 5000, 'two commit actions ran');
      assert.deepStrictEqual(lines(log).sort(), [`C commit main ${second} ${first}`, `M commit main ${second} ${first}`]);

      git('checkout', '-q', '-b', 'feature');
      await waitFor(() => lines(log).length === 3, 5000, 'the checkout ran');
      assert.strictEqual(lines(log)[2], `S checkout feature ${second} ${second}`);
      fs.writeFileSync(path.join(ws, 'a.txt'), '3');
      git('commit', '-q', '-am', 'on feature');
      const third = git('rev-parse', 'HEAD');
      await waitFor(() => lines(log).length === 4, 5000, 'the commit on feature ran');
      assert.strictEqual(lines(log)[3], `C commit feature ${third} ${second}`, 'on-main stays quiet on feature');
      git('checkout', '-q', 'main'); // "feat*" does not match main: nothing
      git('merge', '-q', '--ff-only', 'feature');
      await waitFor(() => lines(log).length === 5, 5000, 'the merge ran');
      await sleep(600);
      assert.deepStrictEqual(lines(log).slice(4), [`G merge main ${third} ${second}`]);
      assert.strictEqual(runsOf(o, 'on-merge')[0].cause, 'git:merge');
      // Three commits in a row (a rebase, a script): one burst, one run each, told the last.
      for (const n of [4, 5, 6]) {
        fs.writeFileSync(path.join(ws, 'a.txt'), String(n));
        git('commit', '-q', '-am', `burst ${n}`);
      }
      const last = git('rev-parse', 'HEAD');
      await waitFor(() => lines(log).length === 7, 5000, 'the burst ran');
      await sleep(800);
      assert.deepStrictEqual(lines(log).slice(5).map((l) => l.split(' ').slice(0, 4).join(' ')).sort(), [`C commit main ${last}`, `M commit main ${last}`]);
      await o.stop();
      await verifyClean(ws);
    });

    it('follows a detached HEAD and a linked worktree, reading the repository files directly', async () => {
      const { ws: repo, git } = repoWithOneCommit();
      const wt = path.join(tmpWorkspace(), 'wt');
      git('worktree', 'add', '-q', '-b', 'side', wt);
      const log = logFile();
      const o = await start(wt);
      await add(o, { name: 'c', trigger: { kind: 'git', git: 'commit' }, run: { command: 'echo "$SDLC_GIT_BRANCH $SDLC_GIT_COMMIT" >> "$LOG"', env: { LOG: log } } });
      await add(o, { name: 'k', trigger: { kind: 'git', git: 'checkout' }, run: { command: 'echo "checkout [$SDLC_GIT_BRANCH] $SDLC_GIT_COMMIT" >> "$LOG"', env: { LOG: log } } });
      const wgit = gitIn(wt);
      fs.writeFileSync(path.join(wt, 'b.txt'), 'b');
      wgit('add', 'b.txt');
      wgit('commit', '-q', '-m', 'in the worktree');
      const c = wgit('rev-parse', 'HEAD');
      await waitFor(() => lines(log).length === 1, 5000, 'the worktree commit ran');
      assert.strictEqual(lines(log)[0], `side ${c}`);
      // A commit in the main worktree moves another branch: not this worktree's HEAD.
      fs.writeFileSync(path.join(repo, 'a.txt'), '2');
      git('commit', '-q', '-am', 'on main');
      wgit('checkout', '-q', '--detach', 'HEAD~1');
      const detached = wgit('rev-parse', 'HEAD');
      await waitFor(() => lines(log).length === 2, 5000, 'the detach ran');
      await sleep(500);
      assert.deepStrictEqual(lines(log).slice(1), [`checkout [] ${detached}`]);
      await o.stop();
      await verifyClean(wt);
    });

    it('commits made while nothing ran are caught up at the next start, per the catch-up policy', async () => {
      const { ws, git } = repoWithOneCommit();
      const log = logFile();
      let o = await start(ws);
      const env = { LOG: log };
      await add(o, { name: 'once', trigger: { kind: 'git', git: 'commit' }, run: { command: 'echo "once $SDLC_GIT_COMMIT" >> "$LOG"', env } });
      await add(o, { name: 'all', trigger: { kind: 'git', git: 'commit' }, run: { command: 'echo "all $SDLC_GIT_COMMIT" >> "$LOG"', env }, policy: { catchUp: 'all' } });
      await add(o, { name: 'skip', trigger: { kind: 'git', git: 'commit' }, run: { command: 'echo skip >> "$LOG"', env }, policy: { catchUp: 'skip' } });
      await add(o, { name: 'switch', trigger: { kind: 'git', git: 'checkout' }, run: { command: 'echo "switch $SDLC_GIT_BRANCH" >> "$LOG"', env } });
      await sleep(200); // HEAD as seen is committed
      await o.stop();
      const made: string[] = [];
      for (const n of [2, 3]) {
        fs.writeFileSync(path.join(ws, 'a.txt'), String(n));
        git('commit', '-q', '-am', `while stopped ${n}`);
        made.push(git('rev-parse', 'HEAD'));
      }
      git('checkout', '-q', '-b', 'topic');
      git('checkout', '-q', 'main'); // back where it was: still two checkouts that happened
      o = await start(ws);
      await o.triggersReady();
      await waitFor(() => lines(log).length === 4, 5000, 'the missed events ran');
      await sleep(800);
      // all: one run per missed commit; once: one, with the newest; two checkouts, once: the newest.
      assert.deepStrictEqual(lines(log).sort(), [`all ${made[0]}`, `all ${made[1]}`, `once ${made[1]}`, 'switch main'].sort());
      const skipped = o.eventsOf(o.getAction('skip')!.id).filter((e) => e.type === 'task.skipped');
      assert.strictEqual(skipped.length, 1);
      assert.match(String(skipped[0].data.reason), /^2 event\(s\) happened while no orchestrator was running \(catch-up: skip\)$/);
      await o.stop();
      // Started again with nothing new: nothing runs.
      o = await start(ws);
      await o.triggersReady();
      await sleep(500);
      assert.strictEqual(lines(log).length, 4);
      await o.stop();
      await verifyClean(ws);
    });
  });

  describe('on-open and after-task', () => {
    it('on-open runs once each time an orchestrator starts owning the folder, not for a follower', async () => {
      const ws = tmpWorkspace();
      const log = logFile();
      let o = await start(ws);
      await o.triggersReady();
      await add(o, { name: 'hello', trigger: { kind: 'open' }, run: { command: 'echo opened >> "$LOG"', env: { LOG: log } } });
      await sleep(300);
      assert.strictEqual(lines(log).length, 0, 'not when it is added');
      await o.stop();
      o = await start(ws);
      await waitFor(() => lines(log).length === 1, 5000, 'ran at the start');
      const follower = await start(ws);
      assert.strictEqual(follower.currentRole, 'follower');
      await sleep(500);
      assert.strictEqual(lines(log).length, 1, 'a follower does not run it');
      assert.strictEqual(runsOf(o, 'hello')[0].cause, 'open');
      await follower.stop();
      await o.stop();
      await verifyClean(ws);
    });

    it('after-task runs when the task ends, told its exit code; only-on narrows it; a follower passes it to the owner', async () => {
      const ws = tmpWorkspace();
      const log = logFile();
      const o = await start(ws);
      await add(o, { name: 'after-build', trigger: { kind: 'afterTask', task: 'build' }, run: { command: 'echo "any $SDLC_TASK_LABEL $SDLC_TASK_EXIT_CODE" >> "$LOG"', env: { LOG: log } } });
      await add(o, { name: 'on-fail', trigger: { kind: 'afterTask', task: 'build', onlyOn: 'failure' }, run: { command: 'echo "fail $SDLC_TASK_EXIT_CODE" >> "$LOG"', env: { LOG: log } } });
      await o.taskEnded('build', 0);
      await o.taskEnded('test', 1);
      await waitFor(() => lines(log).length === 1, 5000, 'after-build ran');
      await sleep(500);
      assert.deepStrictEqual(lines(log), ['any build 0']);
      const follower = await start(ws);
      await follower.taskEnded('build', 2);
      await waitFor(() => lines(log).length === 3, 5000, 'both ran for the failure');
      assert.deepStrictEqual(lines(log).slice(1).sort(), ['any build 2', 'fail 2']);
      assert.strictEqual(runsOf(o, 'on-fail')[0].cause, 'task:build');
      await follower.stop();
      await o.stop();
      await verifyClean(ws);
    });
  });

  describe('bad input', () => {
    it('the CLI and the actions file refuse a bad glob, an unknown git event, a stray modifier and a task that triggers itself', () => {
      const ws = tmpWorkspace();
      const bad = (args: string[], message: RegExp) => {
        const r = cli(['add', '--workspace', ws, '--run', 'true', ...args]);
        assert.strictEqual(r.code, 2, r.stderr);
        assert.match(r.stderr, message);
      };
      bad(['--on-change', 'src/[a-z.ts'], /on-change: "src\/\[a-z\.ts" is not a valid glob: Missing closing: "\]"/);
      bad(['--on-change', '/etc/*'], /is absolute; write it relative to the workspace folder/);
      bad(['--on-change', '../x/**'], /leaves the workspace folder/);
      bad(['--on-git', 'push'], /on-git must be one of commit, checkout, merge \(got "push"\)/);
      bad(['--on-git', 'commit', '--branch', 'a b'], /branch: "a b" cannot match a git branch name/);
      bad(['--every', '1h', '--overlap', 'skip'], /overlap applies only to --on-change, --on-git and --after-task/);
      bad(['--on-change', 'x', '--overlap', 'sometimes'], /overlap must be one of queue-one, skip, restart, parallel/);
      bad(['--on-open', '--debounce', '1s'], /--debounce applies only to --on-change, --on-git and --after-task/);
      bad(['--manual', '--branch', 'main'], /--branch applies only to --on-git/);
      assert.strictEqual(cli(['list', '--workspace', ws, '--json']).stdout.trim(), '[]', 'nothing was stored');

      const file = parseActionsFile(
        [
          'actions:',
          '  fmt:',
          '    run: prettier -w .',
          '    on-change: [src/**, "src/{a,b"]',
          '  own:',
          '    task: build',
          '    runner: task',
          '    after-task: build',
          '  stray:',
          '    run: echo',
          '    every: 1h',
          '    branch: main',
          '  git:',
          '    run: echo',
          '    on-git: push',
          '',
        ].join('\n'),
        'actions.yaml',
        { now: Date.now() },
      );
      assert.deepStrictEqual(
        file.problems.map((p) => `${p.line}:${p.column} ${p.message}`),
        [
          '4:16 fmt: on-change: "src/{a,b" is not a valid glob: Missing closing: "}"',
          '8:17 own: this action runs the task "build" itself, so it would trigger itself after each run; pick another task',
          '12:13 stray: branch applies only to on-git',
          '15:13 git: on-git must be one of commit, checkout, merge (got "push")',
        ],
      );
    });

    it('a glob that matches nothing is accepted and flagged in the log', async () => {
      const ws = tmpWorkspace();
      fs.writeFileSync(path.join(ws, 'a.txt'), 'a');
      const cap = captureLogger();
      const o = await start(ws, { log: cap.logger });
      await add(o, { name: 'nothing-yet', trigger: { kind: 'change', paths: ['docs/**/*.md'] }, run: { command: 'true' } });
      await waitFor(() => cap.lines.some((l) => /matches no file yet/.test(l)), 5000, 'flagged');
      assert.match(cap.lines.find((l) => /matches no file yet/.test(l))!, /nothing-yet: on-change "docs\/\*\*\/\*\.md" matches no file yet/);
      await o.stop();
      await verifyClean(ws);
    });

    it('a watcher at the OS limit on watches says to raise fs.inotify.max_user_watches, and the other triggers keep working', async function () {
      const limitFile = '/proc/sys/fs/inotify/max_user_watches';
      let saved: string;
      try {
        saved = fs.readFileSync(limitFile, 'utf8').trim();
        fs.writeFileSync(limitFile, saved); // writable only as root on Linux
      } catch {
        return this.skip();
      }
      const ws = tmpWorkspace();
      for (let i = 0; i < 60; i++) fs.mkdirSync(path.join(ws, 'tree', `d${i}`), { recursive: true });
      const log = logFile();
      const cap = captureLogger();
      const o = await start(ws, { log: cap.logger });
      await add(o, { name: 'other', trigger: { kind: 'afterTask', task: 'build' }, run: { command: 'echo other >> "$LOG"', env: { LOG: log } } });
      try {
        fs.writeFileSync(limitFile, '1');
        await add(o, { name: 'many', trigger: { kind: 'change', paths: ['tree/**'] }, run: { command: 'true' } });
        await waitFor(() => cap.lines.some((l) => /max_user_watches/.test(l)), 5000, 'the limit reported');
      } finally {
        fs.writeFileSync(limitFile, saved);
      }
      assert.match(cap.lines.find((l) => /max_user_watches/.test(l))!, /fs\.inotify\.max_user_watches \(now 1\), is reached\. Raise it/);
      await o.taskEnded('build', 0);
      await waitFor(() => lines(log).length === 1, 5000, 'the other trigger still works');
      const warnings = o.eventsSince(0, 10_000).filter((e) => e.type === 'engine.warning');
      assert.strictEqual(warnings.length, 1, 'one warning, not one per folder');
      await o.stop();
      await verifyClean(ws);
    });
  });
});
