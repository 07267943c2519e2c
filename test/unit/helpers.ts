// Shared test helpers: temp folders, waiting for a condition, running the real CLI.
import * as assert from 'assert';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DurableDatabase } from '../../src/core/store/database';
import { DEFAULT_POLICY, type Action, type Run } from '../../src/core/model';
import { readOwner } from '../../src/core/lease';
import { silentLogger, type Logger } from '../../src/core/log';
import { Orchestrator, type OrchestratorOptions } from '../../src/core/orchestrator';
import { sdlcPaths } from '../../src/core/paths';
import { ProcessRunner } from '../../src/core/processRunner';
import { loadSqlJs } from '../../src/core/store/sqljs';
import { verifyStore } from '../../src/core/verify';

export const REPO = path.resolve(__dirname, '../../..');
export const CLI = path.join(REPO, 'bin', 'sdlc-orchestrator.js');

const made: string[] = [];
export function tmpWorkspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdlc-test-'));
  made.push(dir);
  return dir;
}

after(() => {
  if (!process.env.SDLC_KEEP_TMP) for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { cwd?: string } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function cliJson<T = unknown>(args: string[]): T {
  const r = cli([...args, '--json']);
  if (r.code !== 0) throw new Error(`sdlc-orchestrator ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export function spawnCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
}

/** Waits until the child owns the folder (it is ticking), or gives up. */
export async function untilOwner(ws: string, child: ChildProcess, timeoutMs = 8000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (readOwner(sdlcPaths(ws))?.pid === child.pid) return true;
    if (child.exitCode !== null) return false;
    await sleep(5);
  }
  return false;
}

/** Why a run that never got to the end is recorded failed: a kill (recovered) or a clean stop. */
const CUT_OFF = /^(recovered from restart|interrupted: the orchestrator stopped)/;

/**
 * One-shot actions after crashes: each has exactly one run; a run whose command wrote its line
 * (`ran`) is recorded as it really ended (succeeded, exit 0), any other was cut off and failed,
 * never started again; and every line belongs to a recorded run. Returns how many were cut off.
 */
export function assertEachRanOnce(actions: Action[], runs: Run[], ran: string[]): number {
  const known = new Set(runs.map((r) => r.runId));
  for (const r of ran) assert.ok(known.has(r), `run ${r} ran but is not recorded`);
  let cutOff = 0;
  for (const a of actions) {
    const mine = runs.filter((r) => r.actionId === a.id);
    assert.strictEqual(mine.length, 1, `action ${a.name} has ${mine.length} runs`);
    const [run] = mine;
    if (ran.includes(run.runId)) {
      assert.strictEqual(run.status, 'succeeded', `${a.name} ran to the end but is recorded ${run.status}: ${run.reason}`);
      assert.strictEqual(run.exitCode, 0);
      assert.strictEqual(a.status, 'succeeded');
    } else {
      assert.match(run.reason ?? '', CUT_OFF, `${a.name}: ${run.status} ${run.reason}`);
      assert.strictEqual(a.status, 'failed');
      cutOff++;
    }
  }
  return cutOff;
}

/** The snapshot passes the sqlite3 tool's integrity check (skipped where the tool is missing). */
export function assertSqliteIntegrity(dbFile: string): void {
  const r = spawnSync('sqlite3', [dbFile, 'PRAGMA integrity_check;'], { encoding: 'utf8' });
  if (!r.error) assert.strictEqual(r.stdout.trim(), 'ok');
}

export async function engine(workspace: string, opts: Partial<OrchestratorOptions> = {}): Promise<Orchestrator> {
  const o = await Orchestrator.create({ workspace, runners: { process: new ProcessRunner() }, tickMs: 100, log: silentLogger, ...opts });
  await o.start();
  return o;
}

/** Reads the folder's state as a separate reader would (snapshot + journal). */
export async function readFolder<T>(workspace: string, read: (db: DurableDatabase) => T): Promise<T> {
  const db = DurableDatabase.open(await loadSqlJs(), sdlcPaths(workspace), { mode: 'reader', log: silentLogger, now: Date.now });
  try {
    return read(db);
  } finally {
    db.close({ snapshot: false });
  }
}

/** The lifecycle log accounts for every table row (what `sdlc-orchestrator verify` checks). */
export async function verifyClean(ws: string): Promise<void> {
  const report = await readFolder(ws, (db) => verifyStore(db.store));
  assert.ok(report.ok, `verify found: ${JSON.stringify(report.divergences.slice(0, 5))}`);
}

export function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** An action as the engine reports it, due a minute after `now`, with `over` on top. */
export function actionFixture(now: number, over: Partial<Action>): Action {
  return {
    id: over.name ?? 'id',
    name: 'a',
    status: 'scheduled',
    trigger: { kind: 'delay', delay: '10m' },
    run: { runner: 'task', command: 'npm test' },
    policy: DEFAULT_POLICY,
    dueAt: now + 60_000,
    attempt: 0,
    running: 0,
    pending: 0,
    idempotencyKey: null,
    createdAt: now - 1000,
    updatedAt: now - 1000,
    lastRunId: null,
    reason: null,
    source: 'local',
    needsApproval: false,
    ...over,
  };
}

/** A logger that keeps what the engine said, one "level: message" line each. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (m: string, err?: unknown) => void lines.push(`${level}: ${m}${err ? `: ${String(err)}` : ''}`);
  return { lines, logger: { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/** What `killedDuring` saw: the start line it killed after (none: the host never got that far), how long after, and the host's stderr. */
export interface KilledRun {
  target: string | undefined;
  delayMs: number;
  stderr: string;
}

/**
 * Runs the host script `host` with `args` (a process printing `<kind> <arg>` lines) and SIGKILLs
 * it `delayMs()` ms after its `killAt`-th line of kind `start` (or after 20 s). With `after`, the
 * delay counts from that start's own line of kind `after` instead (a later step of the same
 * snapshot), so some kills land past that step for certain, whatever this machine's timings.
 * Every line goes to `onLine` first, with the target once chosen and when each start line came
 * (performance.now()).
 */
export async function killedDuring(
  host: string,
  args: string[],
  opts: { start: string; killAt: number; after?: string; delayMs: () => number; onLine: (kind: string, arg: string, target: string | undefined, startedAt: Map<string, number>) => void },
): Promise<KilledRun> {
  const child: ChildProcess = spawn(process.execPath, [host, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const startedAt = new Map<string, number>();
  let target: string | undefined;
  let delayMs = 0;
  let buffer = '';
  const killed = new Promise<void>((resolve) => {
    const arm = () => {
      delayMs = opts.delayMs();
      setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, delayMs);
    };
    child.stdout!.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const [kind, arg] = [line[0], line.slice(2)];
        if (kind === opts.start) {
          startedAt.set(arg, performance.now());
          if (startedAt.size === opts.killAt) {
            target = arg;
            if (!opts.after) arm();
          }
        }
        if (opts.after && kind === opts.after && target !== undefined && arg === target) arm();
        opts.onLine(kind, arg, target, startedAt);
      }
    });
    child.once('exit', () => resolve());
  });
  await Promise.race([killed, sleep(20_000)]);
  child.kill('SIGKILL');
  await exited(child);
  assert.ok(child.signalCode === 'SIGKILL', `the host ended by itself: ${stderr}`);
  return { target, delayMs, stderr };
}
