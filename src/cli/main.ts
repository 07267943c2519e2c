// sdlc-orchestrator: the engine without VS Code, on the same `.sdlc/orchestrator.db`.
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { CorruptDatabaseError, DurableDatabase } from '../core/store/database';
import { parseDuration } from '../core/duration';
import { NotFoundError, ValidationError } from '../core/errors';
import type { Request } from '../core/inbox';
import { silentLogger, streamLogger, type LogLevel } from '../core/log';
import { upstreamsOf, type ActionInput, type Flow, type TriggerInput } from '../core/model';
import { Orchestrator, type OrchestratorOptions } from '../core/orchestrator';
import { sdlcPaths } from '../core/paths';
import { ProcessRunner } from '../core/processRunner';
import { loadSqlJs } from '../core/store/sqljs';
import { verifyStore, type VerifyReport } from '../core/verify';
import { postDelivery } from '../core/webhookClient';
import { readWebhookInfo } from '../core/webhookFiles';
import type { FileAction } from '../core/definitions/actionsFile';
import { ApprovalLedger, cliApprovalsFile } from '../core/definitions/approvals';
import { ACTIONS_FILE } from '../core/definitions/keys';
import { nearest } from '../core/nearest';
import { healthOf } from '../core/health';
import { displayText } from '../core/displayText';
import { TRIGGER_FLAGS } from '../core/validate';
import { actionJson, actionsText, flowsText, flowText, statsText, statText, deliveriesText, deliveryJson, eventJson, eventText, notificationsText, runJson, runsText, verifyText } from './format';
import { flowJson, notificationJson } from '../core/api/json';
import { validateNotify } from '../core/notify/notifySpec';

const USAGE = `sdlc-orchestrator — a durable automation engine for a folder

usage:
  sdlc-orchestrator add     --workspace DIR --name NAME --run "CMD"
                            (--at ISO | --in DURATION | --cron EXPR [--tz ZONE] | --every DURATION
                             | --webhook HOOK | --after ACTION... [--if success|failure|always] | --manual
                             | --on-change GLOB... [--ignore GLOB]... | --on-git commit|checkout|merge [--branch GLOB]
                             | --on-open | --after-task LABEL [--only-on success|failure])
                            [--debounce D] [--overlap queue-one|skip|restart|parallel]
                            [--timeout D] [--max-attempts N] [--backoff D] [--key IDEMPOTENCY_KEY]
                            [--cwd DIR] [--env NAME=VALUE]... [--concurrency N]
                            [--on-interrupted fail|retry] [--catch-up skip|once|all]
                            [--priority N] [--isolation worktree]
                            [--notify URL|$NAME|off [--notify-on failure|success|always]
                             [--notify-format json|slack|discord]] [--json]
  sdlc-orchestrator apply   --workspace DIR --file ACTIONS.json [--json]   add several actions at once
  sdlc-orchestrator list    --workspace DIR [--json]        queued and running actions
  sdlc-orchestrator history --workspace DIR [--limit N] [--json]   finished runs, latest first
  sdlc-orchestrator events  --workspace DIR [--since SEQ] [--limit N] [--json]
  sdlc-orchestrator events  --workspace DIR --follow [--since SEQ] [--json]   print each event as it
                            is committed until interrupted; --since the last seq printed resumes exactly
  sdlc-orchestrator flows   --workspace DIR [--limit N] [--json]   flow runs, latest first
  sdlc-orchestrator flow    --workspace DIR FLOW [--json]      one flow run: its steps as a graph
  sdlc-orchestrator flow    --workspace DIR cancel|rerun FLOW  cancel a running flow; re-run an
                            ended one's failed steps and what follows them, in the same flow
  sdlc-orchestrator cancel  --workspace DIR ACTION
  sdlc-orchestrator run-now --workspace DIR ACTION
  sdlc-orchestrator delete  --workspace DIR ACTION
  sdlc-orchestrator pause | resume --workspace DIR
  sdlc-orchestrator run     --workspace DIR [--tick MS] [--exit-when-idle] [--max-concurrent N]
                            [--keep-days N] [--keep-runs N] [--quiet]
                            [--webhook-port N] [--webhook-host ADDR] [--no-webhooks] [--no-api]
                            [--notify URL|$NAME [--notify-on ...] [--notify-format ...]]  (the folder's
                            default for actions that say nothing about notify)
  sdlc-orchestrator hook    --workspace DIR HOOK [--data TEXT | --data @FILE | --data -]
                            [--content-type TYPE] [--id DELIVERY_ID] [--json]
                            post a delivery to the running orchestrator's webhook listener
  sdlc-orchestrator deliveries --workspace DIR [--limit N] [--json]   the webhook inbox
  sdlc-orchestrator replay  --workspace DIR DELIVERY_ID     deliver a stored delivery again
  sdlc-orchestrator stats   --workspace DIR [ACTION] [--json]   how each action has been doing over its
                            latest 50 runs: success rate, p50/p95 duration and trend, flaky, last failure
  sdlc-orchestrator notifications --workspace DIR [--limit N] [--json]   the notification outbox
  sdlc-orchestrator verify  --workspace DIR [--json]   fold the lifecycle log and compare it with the
                            tables: exit 0 when they agree, 1 when they differ, 2 when unreadable
  sdlc-orchestrator validate [--workspace DIR] [--file F] [--json]   check .sdlc/actions.yaml (or F)
                            without touching the engine: exit 0, or 2 with file:line:column: message
  sdlc-orchestrator export github-actions [--workspace DIR] [--out DIR] [--check] [--json]
                            one GitHub Actions workflow per flow of .sdlc/actions.yaml, written to
                            .github/workflows (or --out) once actionlint passes them; --check writes
                            nothing and exits 1 when the workflows there differ from what it would write

Actions as code: .sdlc/actions.yaml (committed with the repository) defines actions by name,
with the keys of "add" (run, cron, tz, every, at, in, webhook, after, manual, timeout, ...).
The running orchestrator applies each saved version; an invalid file changes nothing. "run"
runs the file's commands, and prints each one it has not run on this machine before.

Webhooks: the running orchestrator listens on 127.0.0.1 (an ephemeral port unless
--webhook-port is given) and writes its URL and the folder's secret to .sdlc/webhook.json.
The same listener serves the local API (GET /openapi.json describes it) and the change feed
(GET /events, Server-Sent Events); every request needs "Authorization: Bearer <secret>".
Notifications: an action's --notify URL gets a JSON summary of each run's end (Slack's or
Discord's form for their webhook URLs); $NAME reads the URL from that environment variable.
Flows: --after names one action or several (repeat it); when an action others follow starts, its
run opens a flow, and each follower runs once in it when its upstreams there have ended and its
--if holds (success: all succeeded, the default; failure: something before it failed; always).
A run writes key=value lines to $SDLC_OUTPUT; the steps after it see SDLC_OUT_<ACTION>_<KEY>.
FLOW is a flow id, or its first 8 characters as shown.
ACTION is an action's id or name. DURATION is e.g. 500ms, 30s, 10m, 2h, 1d.
A change (add, apply, cancel, run-now, delete, pause, resume, replay) exits 0 only once it is
stored. With no orchestrator running, the command applies it itself (parallel calls take turns);
with one running, that one applies it. If the running one does not take it within --wait
(default 10s), the request is withdrawn and the command exits 1 saying it was NOT applied.
--workspace defaults to the current folder.
`;

class UsageError extends Error {}

/** The commands, for suggesting the nearest one to a typo (the switch in main() is what runs them). */
const COMMANDS = ['add', 'apply', 'list', 'validate', 'export', 'history', 'events', 'cancel', 'run-now', 'delete', 'pause', 'resume', 'run', 'verify', 'hook', 'flows', 'flow', 'stats', 'notifications', 'deliveries', 'replay', 'help'];

/** " Did you mean …?" for a mistyped word, or nothing when no known word is near. */
function didYouMean(word: string, known: string[], prefix = ''): string {
  const near = nearest(word, known);
  return near ? `; did you mean ${prefix}${near}?` : '';
}

/** How long `list` repeats a warning the engine recorded (a damaged journal, a database moved aside). */
const WARNINGS_SHOWN_MS = 7 * 86_400_000;

const OPTIONS = {
  workspace: { type: 'string', short: 'w' },
  name: { type: 'string' },
  run: { type: 'string' },
  at: { type: 'string' },
  in: { type: 'string' },
  cron: { type: 'string' },
  tz: { type: 'string' },
  every: { type: 'string' },
  webhook: { type: 'string' },
  after: { type: 'string', multiple: true },
  if: { type: 'string' },
  priority: { type: 'string' },
  isolation: { type: 'string' },
  manual: { type: 'boolean' },
  'on-change': { type: 'string', multiple: true },
  ignore: { type: 'string', multiple: true },
  'on-git': { type: 'string' },
  branch: { type: 'string' },
  'on-open': { type: 'boolean' },
  'after-task': { type: 'string' },
  'only-on': { type: 'string' },
  debounce: { type: 'string' },
  overlap: { type: 'string' },
  timeout: { type: 'string' },
  'max-attempts': { type: 'string' },
  backoff: { type: 'string' },
  key: { type: 'string' },
  runner: { type: 'string' },
  cwd: { type: 'string' },
  env: { type: 'string', multiple: true },
  concurrency: { type: 'string' },
  'on-interrupted': { type: 'string' },
  'catch-up': { type: 'string' },
  file: { type: 'string' },
  json: { type: 'boolean' },
  since: { type: 'string' },
  limit: { type: 'string' },
  tick: { type: 'string' },
  'exit-when-idle': { type: 'boolean' },
  'max-concurrent': { type: 'string' },
  'lease-stale': { type: 'string' },
  'keep-days': { type: 'string' },
  'keep-runs': { type: 'string' },
  quiet: { type: 'boolean' },
  'webhook-port': { type: 'string' },
  'webhook-host': { type: 'string' },
  'no-webhooks': { type: 'boolean' },
  data: { type: 'string' },
  'content-type': { type: 'string' },
  id: { type: 'string' },
  'log-level': { type: 'string' },
  wait: { type: 'string' },
  out: { type: 'string' },
  check: { type: 'boolean' },
  follow: { type: 'boolean', short: 'f' },
  notify: { type: 'string' },
  'notify-on': { type: 'string' },
  'notify-format': { type: 'string' },
  'no-api': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function out(text: string): void {
  process.stdout.write(text);
}

function intOption(values: Values, name: keyof Values, min: number): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${String(name)} must be a whole number of at least ${min} (got "${raw}")`);
  return n;
}

function workspaceOf(values: Values): string {
  const ws = path.resolve(values.workspace ?? process.cwd());
  if (!fs.existsSync(ws) || !fs.statSync(ws).isDirectory()) throw new UsageError(`workspace folder ${ws} does not exist; pass an existing folder with --workspace`);
  return ws;
}

function triggerOf(values: Values): TriggerInput {
  const given: TriggerInput[] = [];
  if (values.at !== undefined) given.push({ kind: 'at', at: values.at });
  if (values.in !== undefined) given.push({ kind: 'delay', delay: values.in });
  if (values.cron !== undefined) given.push({ kind: 'cron', cron: values.cron, tz: values.tz });
  if (values.every !== undefined) given.push({ kind: 'every', every: values.every });
  if (values.webhook !== undefined) given.push({ kind: 'webhook', hook: values.webhook });
  if (values.after !== undefined) given.push({ kind: 'after', after: values.after, ...(values.if !== undefined ? { if: values.if } : {}) });
  if (values.manual) given.push({ kind: 'manual' });
  const coalescing = { ...(values.debounce !== undefined ? { debounce: values.debounce } : {}), ...(values.overlap !== undefined ? { overlap: values.overlap as 'skip' } : {}) };
  if (values['on-change'] !== undefined) given.push({ kind: 'change', paths: values['on-change'], ...(values.ignore ? { ignore: values.ignore } : {}), ...coalescing });
  if (values['on-git'] !== undefined) given.push({ kind: 'git', git: values['on-git'] as 'commit', ...(values.branch !== undefined ? { branch: values.branch } : {}), ...coalescing });
  if (values['on-open']) given.push({ kind: 'open' });
  if (values['after-task'] !== undefined) given.push({ kind: 'afterTask', task: values['after-task'], ...(values['only-on'] !== undefined ? { onlyOn: values['only-on'] as 'success' } : {}), ...coalescing });
  if (given.length === 0) throw new UsageError(`say when to run: one of ${TRIGGER_FLAGS}`);
  if (given.length > 1) throw new UsageError(`give exactly one of ${TRIGGER_FLAGS.replace(' or ', ', ')} (got ${given.map((t) => t.kind).join(', ')})`);
  if (values.tz !== undefined && values.cron === undefined) throw new UsageError('--tz applies only to --cron');
  if (values.if !== undefined && values.after === undefined) throw new UsageError('--if applies only to --after');
  if (values.ignore !== undefined && values['on-change'] === undefined) throw new UsageError('--ignore applies only to --on-change');
  if (values.branch !== undefined && values['on-git'] === undefined) throw new UsageError('--branch applies only to --on-git');
  if (values['only-on'] !== undefined && values['after-task'] === undefined) throw new UsageError('--only-on applies only to --after-task');
  if ((values.debounce !== undefined || values.overlap !== undefined) && !['change', 'git', 'afterTask'].includes(given[0].kind)) {
    throw new UsageError(`--${values.debounce !== undefined ? 'debounce' : 'overlap'} applies only to --on-change, --on-git and --after-task`);
  }
  return given[0];
}

function actionInputOf(values: Values): ActionInput {
  if (values.run === undefined) throw new UsageError('say what to run: --run "CMD"');
  const env: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE (got "${pair}")`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    name: values.name,
    trigger: triggerOf(values),
    run: { command: values.run, runner: values.runner, cwd: values.cwd, ...(values.env ? { env } : {}), ...(values.isolation !== undefined ? { isolation: values.isolation } : {}) },
    policy: {
      ...(values.timeout !== undefined ? { timeout: values.timeout } : {}),
      ...(values['max-attempts'] !== undefined ? { maxAttempts: values['max-attempts'] as unknown as number } : {}),
      ...(values.backoff !== undefined ? { backoff: values.backoff } : {}),
      ...(values.concurrency !== undefined ? { concurrency: values.concurrency as unknown as number } : {}),
      ...(values['on-interrupted'] !== undefined ? { onInterrupted: values['on-interrupted'] as 'fail' } : {}),
      ...(values['catch-up'] !== undefined ? { catchUp: values['catch-up'] as 'once' } : {}),
      ...(values.priority !== undefined ? { priority: values.priority } : {}),
      ...(values.notify !== undefined ? { notify: values.notify } : {}),
      ...(values['notify-on'] !== undefined ? { notifyOn: values['notify-on'] } : {}),
      ...(values['notify-format'] !== undefined ? { notifyFormat: values['notify-format'] } : {}),
    },
    idempotencyKey: values.key,
  };
}

function engineOptions(values: Values, workspace: string): OrchestratorOptions {
  const level = (values['log-level'] ?? 'info') as LogLevel;
  if (!['trace', 'debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be trace, debug, info, warn or error`);
  return {
    workspace,
    runners: { process: new ProcessRunner() },
    label: 'cli',
    log: values.quiet ? silentLogger : streamLogger(process.stderr, level),
    tickMs: intOption(values, 'tick', 1),
    maxConcurrent: intOption(values, 'max-concurrent', 1),
    leaseStaleMs: intOption(values, 'lease-stale', 2000),
    retention: {
      ...(values['keep-days'] !== undefined ? { maxAgeMs: intOption(values, 'keep-days', 1)! * 86_400_000 } : {}),
      ...(values['keep-runs'] !== undefined ? { maxRuns: intOption(values, 'keep-runs', 1) } : {}),
    },
    webhook: values['no-webhooks'] ? false : { port: intOption(values, 'webhook-port', 0), host: values['webhook-host'] },
    ...(values['no-api'] ? { api: false as const } : {}),
    ...(values.wait !== undefined ? { requestTimeoutMs: parseDuration(values.wait, '--wait') } : {}),
  };
}

/** Reads the folder's state without taking it over (works while another process owns it). */
async function readState<T>(workspace: string, read: (db: DurableDatabase) => T): Promise<T> {
  const db = DurableDatabase.open(await loadSqlJs(), sdlcPaths(workspace), { mode: 'reader', log: silentLogger, now: Date.now });
  try {
    return read(db);
  } finally {
    db.close({ snapshot: false });
  }
}

async function send(values: Values, request: Request): Promise<unknown> {
  const workspace = workspaceOf(values);
  // Only warnings (a database moved aside, a damaged journal) are worth saying here.
  return Orchestrator.requestOnce({ ...engineOptions(values, workspace), log: streamLogger(process.stderr, 'warn') }, request);
}

function positional(positionals: string[], what: string): string {
  const id = positionals[1];
  if (!id) throw new UsageError(`say which action to ${what}: sdlc-orchestrator ${positionals[0]} --workspace DIR ACTION_ID`);
  return id;
}

async function runLoop(values: Values): Promise<number> {
  const workspace = workspaceOf(values);
  const opts = engineOptions(values, workspace);
  const notify = validateNotify({ notify: values.notify, notifyOn: values['notify-on'], notifyFormat: values['notify-format'] });
  const orch = await Orchestrator.create({ ...opts, ...(notify ? { notify } : {}), keepAlive: true, isApproved: announceNewCommands(workspace) });
  if (!values.quiet) {
    orch.onEvents((events) => {
      for (const e of events) {
        process.stderr.write(`${eventText(e)}\n`);
        // Show what the command printed, under the event that ends its run.
        const ended = e.runId && (e.type === 'task.completed' || e.type === 'task.failed');
        const tail = ended ? orch.store.getRun(e.runId!)?.outputTail.trimEnd() : '';
        if (tail) process.stderr.write(`${tail.split('\n').map((l) => `         | ${l}`).join('\n')}\n`);
      }
    });
  }
  await orch.start();
  for (const w of orch.warnings) process.stderr.write(`warning: ${w}\n`);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const finish = async (code: number, graceMs = 0) => {
      if (stopping) return;
      stopping = true;
      await orch.stop({ graceMs });
      resolve(code);
    };
    // Ctrl-C stops at once: runs in flight are recorded as interrupted (failed, or retried on
    // the next start, per their policy). Waiting instead would keep running without the lease,
    // which the lockfile library gives up as soon as the signal arrives.
    const onSignal = () => {
      if (stopping) process.exit(130);
      opts.log?.info('stopping');
      void finish(0, 0);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (values['exit-when-idle']) {
      orch.onTick(() => {
        if (orch.isIdle()) void finish(0);
      });
    }
  });
}

/** `validate`: checks the actions file alone; exit 0 when it can be applied, 2 with each problem when not. */
async function validateFile(values: Values): Promise<number> {
  const { readActionsFile } = await import('../core/definitions/actionsFileSource');
  const { problemText } = await import('../core/definitions/actionsFile');
  const file = values.file ? path.resolve(values.file) : path.join(workspaceOf(values), '.sdlc', ACTIONS_FILE);
  if (!fs.existsSync(file)) {
    process.stderr.write(`sdlc-orchestrator: ${file} does not exist; write the actions there (see "sdlc-orchestrator help") or pass --file\n`);
    return 2;
  }
  const parsed = await readActionsFile(file, { now: Date.now() });
  const shown = path.relative(process.cwd(), file) || file;
  if (values.json) {
    out(`${JSON.stringify({ ok: parsed.problems.length === 0, file, problems: parsed.problems, actions: parsed.actions.map((a) => ({ name: a.name, line: a.at.line, trigger: a.input.trigger.kind, command: a.input.run.command })) })}\n`);
  } else if (parsed.problems.length) {
    process.stderr.write(parsed.problems.map((p) => `${problemText(p, shown)}\n`).join(''));
  } else {
    out(`${shown}: ${parsed.actions.length} action(s), no problems\n`);
  }
  return parsed.problems.length ? 2 : 0;
}

/** `run` is the user's own act: file commands run, and each one new to this machine is shown first. */
function announceNewCommands(workspace: string): (a: FileAction) => boolean {
  const ledger = new ApprovalLedger(cliApprovalsFile());
  return (a) => {
    if (!ledger.has(workspace, a.approvalKey)) {
      process.stderr.write(`sdlc-orchestrator: .sdlc/actions.yaml: "${displayText(a.name)}" runs, for the first time on this machine: ${displayText(a.input.run.command)}${a.input.run.cwd ? ` (in ${displayText(a.input.run.cwd)})` : ''}\n`);
      try {
        ledger.add(workspace, [{ key: a.approvalKey, name: a.name, command: a.input.run.command }]);
      } catch (err) {
        process.stderr.write(`sdlc-orchestrator: cannot record it in ${ledger.file}: ${(err as Error).message}\n`);
      }
    }
    return true;
  };
}

/** `verify`: 0 when the tables are what the lifecycle log says, 1 when they differ, 2 when the files cannot be read. */
async function verify(values: Values): Promise<number> {
  const workspace = workspaceOf(values);
  let report: VerifyReport;
  let damage: string | undefined;
  try {
    [report, damage] = await readState(workspace, (db) => [verifyStore(db.store), db.loadDamage] as const);
  } catch (err) {
    process.stderr.write(`sdlc-orchestrator: cannot verify ${workspace}: ${(err as Error).message}\n`);
    return 2;
  }
  if (damage) {
    if (values.json) out(`${JSON.stringify({ ...report, ok: false, unreadable: damage })}\n`);
    process.stderr.write(`sdlc-orchestrator: cannot verify ${workspace}: ${damage}; start the orchestrator to keep what is good and save a copy, then verify again\n`);
    return 2;
  }
  if (values.json) out(`${JSON.stringify(report)}\n`);
  else out(verifyText(report));
  return report.ok ? 0 : 1;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

/** `hook NAME`: posts to the owner's listener, found through .sdlc/webhook.json, signed with the secret there. */
async function postHook(values: Values, positionals: string[]): Promise<number> {
  const hook = positionals[1];
  if (!hook) throw new UsageError('say which hook to post to: sdlc-orchestrator hook --workspace DIR HOOK [--data ...]');
  const workspace = workspaceOf(values);
  const paths = sdlcPaths(workspace);
  let body: Buffer = Buffer.alloc(0);
  const data = values.data;
  if (data === '-') body = await readAll(process.stdin);
  else if (data?.startsWith('@')) {
    try {
      body = fs.readFileSync(data.slice(1));
    } catch (err) {
      throw new UsageError(`cannot read ${data.slice(1)}: ${(err as Error).message}`);
    }
  } else if (data !== undefined) body = Buffer.from(data);
  let contentType = values['content-type'];
  if (!contentType) {
    try {
      JSON.parse(body.toString('utf8'));
      contentType = 'application/json';
    } catch {
      contentType = body.length ? 'application/octet-stream' : 'application/json';
    }
  }
  const info = readWebhookInfo(paths);
  const notServed = `no orchestrator is serving webhooks for ${workspace}; start one with "sdlc-orchestrator run --workspace ${workspace}" or open the folder in VS Code`;
  if (!info?.url) {
    process.stderr.write(`sdlc-orchestrator: ${notServed}\n`);
    return 1;
  }
  let res;
  try {
    res = await postDelivery(info.url, hook, body, { secret: info.secret, contentType, deliveryId: values.id });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    process.stderr.write(`sdlc-orchestrator: ${code === 'ECONNREFUSED' ? notServed : `posting to ${info.url}: ${(err as Error).message}`}\n`);
    return 1;
  }
  let parsed: { id?: string; error?: string } = {};
  try {
    parsed = JSON.parse(res.body);
  } catch {
    // not ours; shown raw below
  }
  if (values.json) out(`${JSON.stringify({ status: res.status, ...parsed, duplicate: res.headers['x-sdlc-duplicate'] === 'true' })}\n`);
  if (res.status === 202) {
    const dup = res.headers['x-sdlc-duplicate'] === 'true';
    if (!values.json) out(`${dup ? 'already delivered' : 'delivered'}: ${parsed.id} to hook ${hook}${dup ? ' (same --id; not run again)' : ''}\n`);
    return 0;
  }
  process.stderr.write(`sdlc-orchestrator: hook ${hook}: ${res.status} ${parsed.error ?? res.body.trim()}\n`);
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const command = positionals[0];
    if (values.help || !command || command === 'help') {
      out(USAGE);
      return command || values.help ? 0 : 2;
    }
    const now = Date.now();
    switch (command) {
      case 'add': {
        const input = actionInputOf(values);
        const result = (await send(values, { op: 'add', actions: [input] })) as { actions: ReturnType<typeof actionJson>[]; created: boolean[] };
        const a = result.actions[0] as never;
        if (values.json) out(`${JSON.stringify({ ...actionJson(a), created: result.created[0] })}\n`);
        else out(`${result.created[0] ? 'added' : 'already there (same --key)'}: ${(a as { id: string }).id}\n${actionsText([a], now)}`);
        return 0;
      }
      case 'apply': {
        if (!values.file) throw new UsageError('say which file holds the actions: --file ACTIONS.json');
        let inputs: ActionInput[];
        try {
          const parsed = JSON.parse(fs.readFileSync(values.file, 'utf8'));
          inputs = Array.isArray(parsed) ? parsed : [parsed];
        } catch (err) {
          throw new UsageError(`cannot read ${values.file}: ${(err as Error).message}`);
        }
        const result = (await send(values, { op: 'add', actions: inputs })) as { actions: never[]; created: boolean[] };
        if (values.json) out(`${JSON.stringify(result.actions.map((a, i) => ({ ...actionJson(a), created: result.created[i] })))}\n`);
        else out(actionsText(result.actions, now));
        return 0;
      }
      case 'list': {
        const workspace = workspaceOf(values);
        // File actions point at their line in the file as it is now. The YAML parser is loaded
        // only by the commands that read the file, so that `add` starts fast.
        const { readActionsFile } = await import('../core/definitions/actionsFileSource');
        const { problemText } = await import('../core/definitions/actionsFile');
        const file = await readActionsFile(path.join(workspace, '.sdlc', ACTIONS_FILE), { now });
        const [actions, warnings, names] = await readState(workspace, (db) => {
          const active = db.store.activeActions();
          // `after` is shown by the upstreams' names, not their ids.
          return [active, db.store.warningsSince(now - WARNINGS_SHOWN_MS), db.store.namesOf([...new Set(active.flatMap((a) => upstreamsOf(a.trigger)))])] as const;
        });
        // What went wrong on disk lately is said where people look, not only in the owner's log.
        for (const w of warnings) process.stderr.write(`warning (${new Date(w.ts).toISOString()}): ${String(w.data.message)}\n`);
        for (const p of file.problems) process.stderr.write(`warning: ${problemText(p, path.join('.sdlc', ACTIONS_FILE))} (nothing from the file is applied until this is fixed)\n`);
        const lineOf = new Map(file.actions.map((a) => [a.name, a.at.line] as const));
        out(values.json ? `${JSON.stringify(actions.map((a) => ({ ...actionJson(a), ...(a.source === 'file' && lineOf.has(a.name) ? { line: lineOf.get(a.name) } : {}) })))}\n` : actionsText(actions, now, names));
        return 0;
      }
      case 'validate':
        return await validateFile(values);
      case 'export': {
        const { exportCommand } = await import('./exportCommand');
        return await exportCommand({ workspace: workspaceOf(values), target: positionals[1], out: values.out, check: values.check, json: values.json }, out, (t) => process.stderr.write(t));
      }
      case 'history': {
        const limit = intOption(values, 'limit', 1) ?? 50;
        const runs = await readState(workspaceOf(values), (db) => db.store.history(limit));
        out(values.json ? `${JSON.stringify(runs.map(runJson))}\n` : runsText(runs));
        return 0;
      }
      case 'events': {
        if (values.follow) {
          if (values.limit !== undefined) throw new UsageError('--limit does not go with --follow: it prints every event until interrupted');
          const { followEvents } = await import('./followCommand');
          return await followEvents({ workspace: workspaceOf(values), since: intOption(values, 'since', 0), json: !!values.json }, out);
        }
        const since = intOption(values, 'since', 0) ?? 0;
        const limit = intOption(values, 'limit', 1) ?? 10_000;
        const events = await readState(workspaceOf(values), (db) => db.store.eventsSince(since, limit));
        out(values.json ? `${JSON.stringify(events.map(eventJson))}\n` : events.map((e) => `${eventText(e)}\n`).join(''));
        return 0;
      }
      case 'cancel':
      case 'run-now':
      case 'delete': {
        const id = positional(positionals, command.replace('-', ' '));
        const op = command === 'cancel' ? 'cancel' : command === 'delete' ? 'delete' : 'runNow';
        const result = await send(values, { op, id });
        if (values.json) out(`${JSON.stringify(result ? actionJson(result as never) : { deleted: id })}\n`);
        else out(`${command === 'cancel' ? 'cancelled' : command === 'delete' ? 'deleted' : 'queued to run now'}: ${id}\n`);
        return 0;
      }
      case 'pause':
      case 'resume':
        await send(values, { op: command });
        out(`${command === 'pause' ? 'paused' : 'resumed'}\n`);
        return 0;
      case 'run':
        return await runLoop(values);
      case 'verify':
        return await verify(values);
      case 'hook':
        return await postHook(values, positionals);
      case 'flows': {
        const limit = intOption(values, 'limit', 1) ?? 50;
        const list = await readState(workspaceOf(values), (db) => db.store.flows(limit));
        out(values.json ? `${JSON.stringify(list.map((f) => flowJson(f)))}\n` : flowsText(list, now));
        return 0;
      }
      case 'flow': {
        const [, sub, arg] = positionals;
        if (sub === 'cancel' || sub === 'rerun') {
          if (!arg) throw new UsageError(`say which flow: sdlc-orchestrator flow ${sub} --workspace DIR FLOW (see "flows")`);
          const result = (await send(values, { op: sub === 'cancel' ? 'cancelFlow' : 'rerunFlow', id: arg })) as Flow;
          if (values.json) out(`${JSON.stringify(flowJson(result))}\n`);
          else out(sub === 'cancel' ? `cancelled: flow ${result.flowId}\n` : `re-running ${result.steps?.filter((s) => s.status === 'queued' || s.status === 'waiting').length ?? 0} step(s) of flow ${result.flowId}\n`);
          return 0;
        }
        if (!sub) throw new UsageError('say which flow: sdlc-orchestrator flow --workspace DIR FLOW, or flow cancel|rerun FLOW (see "flows")');
        const flow = await readState(workspaceOf(values), (db) => {
          const found = db.store.getFlow(sub) ?? db.store.flowByPrefix(sub);
          return found && db.store.flowWithSteps(found.flowId);
        });
        if (!flow) throw new NotFoundError(sub);
        out(values.json ? `${JSON.stringify(flowJson(flow))}\n` : flowText(flow, now));
        return 0;
      }
      case 'stats': {
        const ref = positionals[1];
        const list = await readState(workspaceOf(values), (db) => {
          if (ref) {
            const a = db.store.findAction(ref);
            if (!a) throw new NotFoundError(ref);
            return [{ id: a.id, name: a.name, health: healthOf(db.store, a.id) }];
          }
          return db.store.actionsWithRuns(10_000).map((a) => ({ ...a, health: healthOf(db.store, a.id) }));
        });
        if (values.json) out(`${JSON.stringify(list.map(({ name, health }) => ({ name, ...health, trend: health.trend && { ...health.trend, ratio: Number.isFinite(health.trend.ratio) ? health.trend.ratio : null } })))}\n`);
        else out(ref ? statText(list[0].name, list[0].health) : statsText(list));
        return 0;
      }
      case 'notifications': {
        const limit = intOption(values, 'limit', 1) ?? 50;
        const list = await readState(workspaceOf(values), (db) => db.store.notifications(limit).map((n) => ({ n, name: db.store.getAction(n.actionId)?.name ?? n.actionId })));
        out(values.json ? `${JSON.stringify(list.map(({ n }) => notificationJson(n)))}\n` : notificationsText(list, now));
        return 0;
      }
      case 'deliveries': {
        const limit = intOption(values, 'limit', 1) ?? 50;
        const list = await readState(workspaceOf(values), (db) => db.store.deliveries(limit));
        out(values.json ? `${JSON.stringify(list.map(deliveryJson))}\n` : deliveriesText(list, now));
        return 0;
      }
      case 'replay': {
        const id = positionals[1];
        if (!id) throw new UsageError('say which delivery to replay: sdlc-orchestrator replay --workspace DIR DELIVERY_ID (see "deliveries")');
        const result = (await send(values, { op: 'replayDelivery', id })) as { id: string; hook: string };
        out(values.json ? `${JSON.stringify(result)}\n` : `replayed ${id} as ${result.id} (hook ${result.hook}); it is processed on the next tick\n`);
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"${didYouMean(command, COMMANDS) || '; run "sdlc-orchestrator help"'}`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof ValidationError || err instanceof NotFoundError || err instanceof CorruptDatabaseError) {
      process.stderr.write(`sdlc-orchestrator: ${err.message}\n`);
      return 2;
    }
    if ((err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      // Node says "Unknown option '--evry'. …": name the flag meant, not the whole usage.
      const flag = /'(-{1,2}[^']+)'/.exec((err as Error).message)?.[1] ?? '';
      const hint = didYouMean(flag.replace(/^-+/, '').replace(/=.*$/, ''), Object.keys(OPTIONS), '--');
      process.stderr.write(`sdlc-orchestrator: unknown option ${flag}${hint || '; "sdlc-orchestrator help" lists the options'}\n`);
      return 2;
    }
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`sdlc-orchestrator: ${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`sdlc-orchestrator: ${(err as Error).message}\n`);
    return 1;
  }
}
