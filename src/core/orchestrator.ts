// One folder's orchestrator: owns the folder (lease) and ticks, or follows the owner and
// keeps its view current. Hosts (the CLI, the VS Code extension) create one per folder,
// plug in runners, read state, subscribe to the lifecycle log and send requests.
import * as fs from 'fs';
import type * as http from 'http';
import * as path from 'path';
import type { SqlJsStatic } from 'sql.js';
import { randomUUID as uuidv4 } from 'crypto'; // Node's own: the uuid package took 15 ms to load
import { systemClock, type Clock } from './clock';
import { DurableDatabase, type OpenOptions, type SnapshotPolicy } from './store/database';
import { formatDuration } from './duration';
import { NotFoundError, ValidationError } from './errors';
import { Epoch, FencedError } from './epoch';
import { claimRequest, postRequest, pruneReplies, readInbox, takeReply, withdrawRequest, writeReply, type Posted, type Reply, type Request } from './inbox';
import { Lease, readOwner, type OwnerInfo } from './lease';
import { silentLogger, type Logger } from './log';
import { FINISHED_ACTION_STATES, isDevTriggered, type Action, type ActionInput, type ActionStatus, type CatchUpPolicy, type Flow, type LifecycleEvent, type RunSummary } from './model';
import { FLOW_ENV, OUTPUT_ENV, readOutputFile } from './flows/outputs';
import { isolatedRunner, Worktrees } from './flows/worktree';
import { healthOf, type Health } from './health';
import { findGitDirs, readHead } from './triggers/gitState';
import type { FileAction, ParsedActionsFile, Problem } from './definitions/actionsFile';
import type { ActionsFileSource } from './definitions/actionsFileSource';
import { approveKeys, reconcile } from './definitions/reconcile';
import { sdlcPaths, type SdlcPaths } from './paths';
import type { RunHandle, RunOutcome, Runner } from './runner';
import { loadSqlJs } from './store/sqljs';
import type { ActionRow, RunRow, Store } from './store/store';
import { DEFAULT_RETENTION, exitOutcome, Transitions, type Claim, type Retention } from './transitions';
import { removeRunStatus } from './runStatusRemover';
import { inspectLeftRun, killGroup, recordedExit, recordedOutput, removeStaleRunStatus, RunOutputFile, runStatusFiles } from './runStatus';
import { CHANGED_LIST } from './triggers/devBatch';
import type { DevAction, DevTriggers, RunWindow, Taken } from './triggers/devTriggers';
import type { HeadState } from './triggers/gitState';
import type { FileWatcherFactory } from './triggers/fileWatch';
import { validateActions } from './validate';
import { TickLoop } from './tickLoop';
import { bodyFile, readBody, removeBodies, removeOrphanBodies } from './webhookFiles';
import { WebhookIntake, type IntakeOptions } from './webhookIntake';
import type { Delivery } from './model';
import { LocalApi, type ApiOptions } from './api/localApi';
import { actionJson, runJson } from './api/json';
import { OutboxSender, type OutboxOptions } from './notify/outboxSender';
import { redactTarget, type NotifySpec } from './notify/notifySpec';

export interface OrchestratorOptions {
  workspace: string;
  runners: Record<string, Runner>;
  tickMs?: number;
  /** Runs in flight at once, across all actions. */
  maxConcurrent?: number;
  retention?: Partial<Retention>;
  /** A lease not refreshed for this long is taken over by a follower. */
  leaseStaleMs?: number;
  /** Who this is, shown to followers: 'cli', 'vscode'. */
  label?: string;
  log?: Logger;
  clock?: Clock;
  wasmPath?: string;
  /** Keep the process alive while the loop runs (the CLI's `run`). */
  keepAlive?: boolean;
  snapshotPolicy?: SnapshotPolicy;
  defaultRunner?: string;
  defaultCatchUp?: CatchUpPolicy;
  /** How long a follower waits for the owner to answer a request. */
  requestTimeoutMs?: number;
  /** How often retention prunes old history (a bounded batch each time). */
  pruneEveryMs?: number;
  /** The webhook listener the owner serves; `false` serves none. */
  webhook?: IntakeOptions;
  /**
   * Whether the user approved what a file action would execute. Without it every command is
   * approved (the command line: running it is the user's own act). A file action that is not
   * approved is kept paused until the `approve` request names its key.
   */
  isApproved?: (action: FileAction) => boolean;
  /** Watch and apply `.sdlc/actions.yaml` (default true). */
  actionsFile?: boolean;
  /** Watch files and git for the actions triggered by them (default true). */
  devTriggers?: boolean;
  /** The host's file watcher for on-change actions (VS Code's); default @parcel/watcher, or chokidar. */
  fileWatcher?: FileWatcherFactory;
  /** The local API and change feed on the webhook listener (default on); `false` serves only webhooks. */
  api?: ApiOptions | false;
  /** Where the ends of actions that say nothing about `notify` are announced (the folder's default). */
  notify?: NotifySpec;
  /** How the notification outbox is sent (retries, timeouts). */
  outbox?: OutboxOptions;
}

/** The actions file as the owner last read it. */
export interface DefinitionsStatus {
  file: string;
  /** The file's problems; while there are any, nothing from it is applied. */
  problems: Problem[];
  actions: number;
}

/** Roles, in order. A follower becomes the owner when the lease frees; an owner that loses it follows. */
export const ROLES = ['starting', 'follower', 'owner', 'stopped'] as const;
export type Role = (typeof ROLES)[number];

/** A gap this long between a commit and a start may be a freeze: the epoch is checked before starting. */
const FREEZE_MS = 250;

/** How often the owner lists its inbox even when the watcher said nothing. */
const INBOX_RESCAN_MS = 2000;

export interface EngineStatus {
  role: Role;
  paused: boolean;
  tickMs: number;
  ticks: number;
  lastTickMs: number;
  counts: Partial<Record<ActionStatus, number>>;
  inFlight: number;
  nextDueAt: number | null;
  owner: OwnerInfo | undefined;
  error: string | undefined;
  /** The owner's reading of the actions file (undefined in a follower). */
  definitions: DefinitionsStatus | undefined;
}

interface LiveRun {
  actionId: string;
  deadline: number | null;
  timeoutMs: number | undefined;
  handle: RunHandle | undefined;
  /** A run started by an owner that is gone, still going: watched through its status files. */
  adoptedPid?: number;
  /** Its output file, kept under its cap while it is watched. */
  adoptedOutput?: RunOutputFile;
}

export class Orchestrator {
  readonly paths: SdlcPaths;
  readonly instance = uuidv4();
  private role: Role = 'starting';
  private db: DurableDatabase | undefined;
  private transitions: Transitions | undefined;
  private readonly lease: Lease;
  private readonly loop: TickLoop;
  private readonly live = new Map<string, LiveRun>();
  private finished: { runId: string; outcome: RunOutcome }[] = [];
  private readonly removing = new Set<Promise<void>>();
  private readonly eventListeners = new Set<(events: LifecycleEvent[]) => void>();
  private readonly tickListeners = new Set<(status: EngineStatus) => void>();
  private publishedSeq = 0;
  private ticks = 0;
  private lastTickMs = 0;
  private lastTickAt = 0;
  private nextPruneAt = 0;
  /** A follower's load of a snapshot the owner replaced, under way (see reloadFollower). */
  private followerReload: Promise<void> | undefined;
  private nextLeaseTryAt = 0;
  private takingOver = false;
  private recoverAt: { at: number; startedBefore: number } | undefined;
  private error: string | undefined;
  private drained: (() => void) | undefined;
  private epoch: Epoch | undefined;
  private readonly intake: WebhookIntake;
  /** The API and change feed served beside the webhooks (undefined: webhooks only). */
  readonly api: LocalApi | undefined;
  private readonly outbox: OutboxSender;
  private notificationsSeen = 0;
  /** Made by the first owner step: the watcher and the YAML parser load only where a folder is owned. */
  private actionsFile: ActionsFileSource | undefined;
  /** The development-event watchers (owner only), set up again when the actions they serve change. */
  private dev: DevTriggers | undefined;
  private devVersion = -1;
  private devStart = false;
  private devUpdating: Promise<void> = Promise.resolve();
  /** Wall-clock start and end of each action's last run here: its own writes may still be arriving. */
  private readonly runStartedAt = new Map<string, number>();
  private readonly runEndedAt = new Map<string, number>();
  /** Stored deliveries not yet processed: known in memory so an idle tick does not query for them. */
  private deliveriesPending = false;
  /**
   * The next due time as of a commit count. While nothing commits, due times cannot change,
   * so an idle tick before that time skips the database entirely.
   */
  private dueCache: { commits: number; next: number | null } | undefined;
  private countsCache: { commits: number; counts: Partial<Record<ActionStatus, number>> } | undefined;
  /** Set by the inbox watcher; a listing every few seconds covers file systems that miss events. */
  private inboxDirty = true;
  private nextInboxScanAt = 0;
  private inboxWatcher: fs.FSWatcher | undefined;
  /** Body files of deliveries removed by the open transaction, deleted once it commits. */
  private bodiesToRemove: string[] = [];
  /** Isolated steps' git worktrees, under .sdlc/worktrees. */
  private readonly worktrees: Worktrees;
  /** The commit each flow with a worktree step started from, as it is being read (HEAD, just after the flow opened). */
  private readonly flowCommits = new Map<string, Promise<string | null>>();
  /** Read commits, written to their flows by the next tick. */
  private flowCommitsRead: [string, string][] = [];
  private worktreeCleanup: Promise<unknown> = Promise.resolve();
  readonly warnings: string[] = [];
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly tickMs: number;
  private readonly maxConcurrent: number;
  private readonly retention: Retention;
  private readonly leaseStaleMs: number;

  private constructor(
    private readonly SQL: SqlJsStatic,
    private readonly opts: OrchestratorOptions,
  ) {
    this.paths = sdlcPaths(opts.workspace);
    this.log = opts.log ?? silentLogger;
    this.worktrees = new Worktrees(this.paths.workspace, path.join(this.paths.dir, 'worktrees'), this.log);
    this.clock = opts.clock ?? systemClock;
    this.tickMs = opts.tickMs ?? 500;
    this.maxConcurrent = opts.maxConcurrent ?? 16;
    this.retention = { ...DEFAULT_RETENTION, ...opts.retention };
    this.leaseStaleMs = opts.leaseStaleMs ?? 10_000;
    this.lease = new Lease(this.paths, {
      staleMs: this.leaseStaleMs,
      instance: this.instance,
      label: opts.label ?? 'engine',
      log: this.log,
      onLost: (err) => this.loseLease(err),
    });
    this.loop = new TickLoop(() => this.tick(), { intervalMs: this.tickMs, now: () => this.clock.now(), keepAlive: opts.keepAlive, precise: this.clock === systemClock });
    this.api =
      opts.api === false
        ? undefined
        : new LocalApi(
            {
              secret: () => this.intake.currentSecret,
              serving: () => this.role === 'owner' && this.db !== undefined,
              lastSeq: () => this.store.lastSeq(),
              firstSeq: () => this.store.eventsHead(1)[0]?.seq ?? null,
              eventsSince: (seq, limit) => this.store.eventsSince(seq, limit),
              snapshot: () => ({ paused: this.paused, actions: this.listActions().map(actionJson), running: this.store.runningRuns().map(runJson) }),
              onEvents: (l) => this.onEvents(l),
              listActions: () => this.listActions(),
              getAction: (id) => this.getAction(id),
              getRun: (id) => this.store.getRun(id),
              runsPage: (f) => this.store.runsPage(f),
              notifications: (f) => (f.actionId ? this.store.notificationsOf(f.actionId, f.limit) : this.store.notifications(f.limit)),
              add: (input) => this.add(input),
              act: (op, id) => this.request({ op, id }),
              flows: (f) => this.store.flows(f.limit, f.before),
              getFlow: (id) => this.getFlow(id),
              flowAct: (op, id) => this.request({ op, id }) as Promise<Flow>,
            },
            opts.api,
          );
    this.intake = new WebhookIntake(
      {
        paths: this.paths,
        log: this.log,
        label: opts.label ?? 'engine',
        now: () => this.clock.now(),
        isOwner: () => this.role === 'owner' && this.db !== undefined,
        store: () => this.store,
        record: (d, now) => this.transitions!.receiveDelivery(d, now),
        commitNow: (fn) => this.commitNow(fn),
        stored: () => {
          this.deliveriesPending = true;
          this.loop.notify();
        },
        warn: (m) => this.warn(m),
        ...(this.api ? { api: (req: http.IncomingMessage, res: http.ServerResponse) => this.api!.handle(req, res) } : {}),
      },
      opts.webhook,
    );
    this.outbox = new OutboxSender(
      { log: this.log, now: () => this.clock.now(), isOwner: () => this.role === 'owner' && this.db !== undefined, store: () => this.store, commitNow: (fn) => this.commitNow(fn) },
      opts.outbox,
    );
  }

  /** Runs `fn` in a savepoint and makes its writes durable now (outside the tick: a delivery, a notification's attempt). */
  private commitNow(fn: () => void): void {
    try {
      this.store.savepoint(fn);
      this.db!.commit();
    } catch (err) {
      this.db!.rollback();
      if (err instanceof FencedError) this.loseLease(err);
      throw err;
    }
    this.publish();
  }

  static async create(opts: OrchestratorOptions): Promise<Orchestrator> {
    if (!fs.existsSync(opts.workspace)) throw new ValidationError('workspace', `workspace folder ${opts.workspace} does not exist`);
    return new Orchestrator(await loadSqlJs(opts.wasmPath), opts);
  }

  /**
   * Applies one request without running the loop (the CLI's `add`, `cancel`, …). The request
   * goes through the inbox either way: a running owner applies it on its next tick; when
   * nobody owns the folder, whoever asks takes the folder for a moment and applies every
   * request waiting there, its own included, so parallel callers are all answered at once.
   */
  static async requestOnce(opts: OrchestratorOptions, request: Request): Promise<unknown> {
    const o = await Orchestrator.create(opts);
    o.role = 'stopped';
    const posted = postRequest(o.paths, o.instance, request, o.clock.now());
    return unwrapReply(await awaitAnswer(o.paths, posted, opts.requestTimeoutMs ?? 10_000, o.leaseStaleMs, () => o.serveInboxOnce()));
  }

  /** Owns the folder for one commit: applies what waits in the inbox, answers, lets go. */
  private async serveInboxOnce(): Promise<boolean> {
    if (!(await this.lease.tryAcquire())) return false;
    try {
      const db = await this.openAsOwner();
      if (!db) return false;
      const now = this.clock.now();
      let taken: ReturnType<Orchestrator['takeInbox']>;
      let committed: boolean;
      try {
        taken = this.takeInbox(now);
        committed = db.commit();
      } catch (err) {
        db.rollback();
        if (err instanceof FencedError) return false;
        throw err;
      }
      this.answerInbox(taken, now);
      // Only when the journal has grown long (this commit just happened); a worker's is waited for.
      if (committed && db.maybeSnapshot(now)) await db.flush();
      return true;
    } finally {
      this.role = 'stopped';
      this.db?.close({ snapshot: false });
      this.db = undefined;
      await this.lease.release();
    }
  }

  /** Takes the folder if it is free, otherwise follows its owner; then starts the loop. */
  async start(): Promise<void> {
    if (this.role !== 'starting') return;
    if (!((await this.lease.tryAcquire()) && (await this.becomeOwner()))) await this.startFollowing();
    this.loop.start();
  }

  get currentRole(): Role {
    return this.role;
  }

  get store(): Store {
    if (!this.db) throw new Error('the orchestrator is not started');
    return this.db.store;
  }

  // ---- roles ----

  /**
   * With the lease held: takes the next epoch (the fencing token), then opens the database for
   * writing. Returns undefined, with the lease given back, when another process took that
   * epoch first. If the database cannot be opened (a newer schema, a disk error), the lease is
   * given back so that the folder is not held by an owner that cannot work, and the error is thrown.
   */
  private async openAsOwner(): Promise<DurableDatabase | undefined> {
    this.db?.close({ snapshot: false });
    this.db = undefined;
    let db: DurableDatabase;
    try {
      const epoch = Epoch.take(this.paths, `${this.opts.label ?? 'engine'} pid ${process.pid} ${this.instance}`);
      if (!epoch) {
        this.log.info('another orchestrator took this folder at the same moment; following it');
        await this.lease.release();
        return undefined;
      }
      this.epoch = epoch;
      db = await DurableDatabase.openOwner(this.SQL, this.paths, { mode: 'owner', log: this.log, now: () => this.clock.now(), snapshotPolicy: this.opts.snapshotPolicy, epoch });
    } catch (err) {
      await this.lease.release();
      throw err;
    }
    this.db = db;
    this.dueCache = this.countsCache = undefined; // a new database object counts its commits from 0
    for (const w of db.warnings) this.warn(w);
    // Problems found while loading stay on record (committed by the caller): `list` and the UI show them to whoever looks next.
    for (const message of db.warnings) db.store.addEvent(this.clock.now(), 'engine.warning', null, null, { message });
    this.transitions = new Transitions(db.store, this.instance, () => Math.max(2 * this.tickMs, 1000));
    this.transitions.notifyContext = { folder: this.paths.workspace, defaultSpec: this.opts.notify };
    const runsDir = this.paths.runs;
    this.transitions.flows.readOutputs = (runId) => readOutputFile(runStatusFiles(runsDir, runId).output);
    this.notificationsSeen = 0;
    this.role = 'owner';
    return db;
  }

  private async becomeOwner(): Promise<boolean> {
    const db = await this.openAsOwner();
    if (!db) return false;
    // Subscribers get what happens from now on; history is read with eventsSince().
    if (this.publishedSeq === 0) this.publishedSeq = db.store.lastSeq();
    this.error = undefined;
    const now = this.clock.now();
    // Runs a previous owner left running: those older than two ticks now, the rest after two ticks.
    this.recover(now, now - 2 * this.tickMs);
    this.recoverAt = { at: now + 2 * this.tickMs + 1, startedBefore: now };
    this.store.setMeta('epoch', String(this.epoch!.value));
    this.store.addEvent(now, 'orchestrator.started', null, null, { instance: this.instance, pid: process.pid, label: this.opts.label ?? 'engine', epoch: this.epoch!.value });
    try {
      db.commit();
    } catch (err) {
      db.rollback();
      if (!(err instanceof FencedError)) throw err;
      this.loseLease(err);
      return true;
    }
    // After the commit: the status files of runs now recorded as ended are no longer needed.
    removeStaleRunStatus(this.paths.runs, new Set(this.store.runningRuns().map((r) => r.runId)));
    this.deliveriesPending = this.store.receivedDeliveries(1).length > 0;
    this.cleanWorktrees();
    const orphans = removeOrphanBodies(this.paths, this.store.allDeliveryIds());
    if (orphans) this.log.info(`removed ${orphans} webhook body file(s) whose delivery was never acknowledged`);
    this.publish();
    this.log.info(`owner of ${this.paths.workspace} (tick ${this.tickMs} ms)`);
    this.watchInbox();
    this.outbox.start(); // what a previous owner left in the outbox goes first
    await this.intake.start();
    if (this.opts.actionsFile !== false) {
      const { ActionsFileSource } = await import('./definitions/actionsFileSource');
      if (this.role !== 'owner') return true; // lost or stopped meanwhile
      this.actionsFile ??= new ActionsFileSource(
        this.paths.workspace,
        () => ({ now: this.clock.now(), defaultRunner: this.opts.defaultRunner }),
        () => this.loop.notify(),
        this.log,
      );
      await this.actionsFile.start(); // applied by the next tick
    }
    if (this.opts.devTriggers !== false) {
      const { DevTriggers } = await import('./triggers/devTriggers');
      if (this.role !== 'owner') return true;
      this.dev = new DevTriggers({ workspace: this.paths.workspace, log: this.log, notify: () => this.loop.notify(), runWindow: (id) => this.runWindow(id), fileWatcher: this.opts.fileWatcher });
      this.devStart = true; // after the first tick: the actions file's actions exist by then
      this.loop.notify();
    }
    return true;
  }

  // ---- development-event triggers ----

  /** Sets the watchers up for the live actions with development-event triggers. */
  private refreshDevTriggers(start: boolean): void {
    const dev = this.dev;
    if (!dev || !this.transitions) return;
    this.devVersion = this.transitions.definitionsVersion;
    const actions: DevAction[] = this.store
      .devTriggeredActions()
      .filter((a) => isDevTriggered(a.trigger))
      .map((a) => ({ id: a.id, name: a.name, trigger: a.trigger as DevAction['trigger'], catchUp: a.policy.catchUp, catchUpLimit: a.policy.catchUpLimit }));
    let seenHead: HeadState | undefined;
    try {
      seenHead = start ? JSON.parse(this.store.getMeta('git.head') ?? 'null') ?? undefined : undefined;
    } catch {
      seenHead = undefined;
    }
    this.devUpdating = this.devUpdating
      .then(() => dev.update(actions, start ? { seenHead } : undefined))
      .catch((err) => this.log.error('setting up the file and git triggers', err));
  }

  /** Settled bursts of events become queued runs, by each trigger's overlap policy; returns runs to stop. */
  private applyDevEvents(taken: Taken, now: number): string[] {
    for (const message of taken.warnings) {
      this.log.warn(message);
      this.store.addEvent(now, 'engine.warning', null, null, { message });
    }
    if (taken.head) this.store.setMeta('git.head', JSON.stringify(taken.head));
    const stop: string[] = [];
    for (const b of taken.batches) stop.push(...this.transitions!.devEvent(b, now));
    return stop;
  }

  private runWindow(actionId: string): RunWindow {
    let running = false;
    for (const live of this.live.values()) if (live.actionId === actionId) running = true;
    return { running, startedAt: this.runStartedAt.get(actionId), endedAt: this.runEndedAt.get(actionId) };
  }

  /** Resolves once the file and git watchers are set up for the actions stored now (tests, the bench). */
  async triggersReady(): Promise<void> {
    // The watchers follow the stored actions after the tick that changed them.
    for (let waited = 0; this.dev && this.transitions && (this.devStart || this.transitions.definitionsVersion !== this.devVersion) && waited < 10_000; waited += 5) {
      this.loop.notify();
      await new Promise((r) => setTimeout(r, 5));
    }
    await this.devUpdating;
    await this.dev?.whenReady();
  }

  /** Changes dropped because the action's own run made them (a formatter rewriting what it watches). */
  get selfTriggersSuppressed(): number {
    return this.dev?.suppressed ?? 0;
  }

  /** A VS Code task ended: queues the runs of the actions that wait for it (in whichever process owns the folder). */
  async taskEnded(label: string, exitCode: number | undefined): Promise<void> {
    if (this.role === 'owner') {
      this.dev?.taskEnded(label, exitCode);
      return;
    }
    await this.request({ op: 'taskEnded', label, exitCode: exitCode ?? null });
  }

  private becomeFollower(): void {
    this.role = 'follower';
    try {
      this.follow(DurableDatabase.open(this.SQL, this.paths, this.readerOptions()));
    } catch (err) {
      this.follow(undefined, err);
    }
  }

  /** becomeFollower for start(): the first load goes in slices, without holding the thread (see DurableDatabase.openReader). */
  private async startFollowing(): Promise<void> {
    this.role = 'follower';
    let db: DurableDatabase;
    try {
      db = await DurableDatabase.openReader(this.SQL, this.paths, this.readerOptions());
    } catch (err) {
      return this.follow(undefined, err);
    }
    if (this.role !== 'follower') return db.close({ snapshot: false }); // stopped meanwhile
    this.follow(db);
  }

  private readerOptions(): OpenOptions {
    return { mode: 'reader', log: this.log, now: () => this.clock.now() };
  }

  /** A follower with the folder's state read (or why it could not be). */
  private follow(db: DurableDatabase | undefined, err?: unknown): void {
    this.db = db;
    if (db) {
      if (this.publishedSeq === 0) this.publishedSeq = db.store.lastSeq();
      this.error = undefined;
    } else {
      this.error = (err as Error).message;
      this.log.error('cannot read the folder state', err);
    }
    const owner = readOwner(this.paths);
    this.log.info(`following ${owner ? `${owner.label} (pid ${owner.pid})` : 'another orchestrator'} on ${this.paths.workspace}`);
    this.nextLeaseTryAt = this.clock.now() + 500;
    this.publish();
  }

  private async tryTakeOver(): Promise<void> {
    if (this.takingOver || this.role !== 'follower') return;
    this.takingOver = true;
    try {
      if ((await this.lease.tryAcquire()) && this.role === 'follower') {
        if (await this.becomeOwner()) this.loop.notify();
        else if (!this.db) this.becomeFollower();
      }
    } catch (err) {
      this.error = (err as Error).message;
      this.log.error('could not take over the folder', err);
      if (!this.db) this.becomeFollower(); // the reader was closed to open for writing; read again
    } finally {
      this.takingOver = false;
    }
  }

  /** The lease was lost while we owned the folder: stop acting, never crash; follow instead. */
  private loseLease(err: Error): void {
    if (this.role !== 'owner') return;
    this.warn(`lost ownership of ${this.paths.workspace} (${err.message}); pausing and following the new owner`);
    // Never release: the lock on disk may be the new owner's now.
    this.lease.forget();
    // Runs the new owner can adopt keep going (it records how they end); the rest are stopped.
    for (const live of this.live.values()) if (!live.handle?.adoptable) live.handle?.stop('lease-lost');
    this.live.clear();
    this.unwatchInbox();
    this.outbox.stop();
    this.api?.close();
    void this.intake.stop(false);
    void this.actionsFile?.stop();
    void this.dev?.stop();
    this.dev = undefined;
    this.finished = [];
    try {
      this.db?.close({ snapshot: false });
    } catch (e) {
      this.log.error('closing the database after losing the lease', e);
    }
    this.db = undefined;
    this.becomeFollower();
  }

  /** A request from another process wakes the owner at once instead of at its next tick. */
  private watchInbox(): void {
    this.unwatchInbox();
    try {
      const w = fs.watch(this.paths.inbox, { persistent: false }, () => {
        this.inboxDirty = true;
        this.loop.notify();
      });
      w.on('error', () => this.unwatchInbox()); // the periodic listing still covers it
      this.inboxWatcher = w;
    } catch (err) {
      this.log.debug(`not watching the inbox (${(err as Error).message}); listing it every ${INBOX_RESCAN_MS} ms`);
    }
    this.inboxDirty = true;
  }

  private unwatchInbox(): void {
    this.inboxWatcher?.close();
    this.inboxWatcher = undefined;
  }

  private warn(message: string): void {
    this.warnings.push(message);
    this.log.warn(message);
  }

  // ---- the tick ----

  private tick(): number | null {
    const started = performance.now();
    const now = this.clock.now();
    let nextDue: number | null = null;
    try {
      if (this.role === 'owner') nextDue = this.tickOwner(now);
      else if (this.role === 'follower') this.tickFollower(now);
    } catch (err) {
      if (err instanceof FencedError) this.loseLease(err);
      else {
        this.error = (err as Error).message;
        this.log.error('tick failed', err);
      }
    }
    this.ticks++;
    this.lastTickMs = performance.now() - started;
    this.lastTickAt = now;
    if (this.tickListeners.size) {
      const status = this.status();
      for (const l of this.tickListeners) l(status);
    }
    return nextDue;
  }

  private tickFollower(now: number): void {
    const db = this.db;
    if (db && !this.followerReload) {
      const changed = db.refresh({ inPlace: false });
      if (changed === 'replaced') this.reloadFollower(db);
      else if (changed) this.publish();
    }
    if (now >= this.nextLeaseTryAt) {
      this.nextLeaseTryAt = now + Math.min(500, this.leaseStaleMs / 4);
      void this.tryTakeOver();
    }
  }

  /**
   * The owner replaced the snapshot: the follower loads the new one in slices (see
   * DurableDatabase.openReader) and goes on answering from the one it has until then. Read at
   * once, at 100k runs, that held the extension host's thread up to 136 ms (measured).
   */
  private reloadFollower(db: DurableDatabase): void {
    this.followerReload = DurableDatabase.openReader(this.SQL, this.paths, this.readerOptions())
      .then(
        (fresh) => {
          if (this.role !== 'follower' || this.db !== db) return fresh.close({ snapshot: false }); // it took over, or stopped, meanwhile
          this.db = fresh;
          db.close({ snapshot: false });
          this.error = undefined;
          this.publish();
        },
        (err: unknown) => {
          this.error = (err as Error).message;
          this.log.error('cannot read the folder state', err);
        },
      )
      .finally(() => (this.followerReload = undefined));
  }

  private tickOwner(now: number): number | null {
    const db = this.db!;
    const t = this.transitions!;
    // Frozen for longer than the lease refresh allows? Make sure nobody took over meanwhile.
    if (this.lastTickAt && now - this.lastTickAt > this.leaseStaleMs / 2 && !this.lease.stillOurs()) {
      this.loseLease(new Error('the lease was taken over while this process was not running'));
      return null;
    }
    const finished = this.finished;
    this.finished = [];
    let inbox: { replies: { id: string; reply: Reply }[]; files: string[] } | undefined;
    let claims: Claim[] = [];
    const ended = finished.map((f) => f.runId);
    let committed = false;
    let devStops: string[] = [];
    let committedAt = 0;
    let pruned = false;
    try {
      if (this.inboxDirty || now >= this.nextInboxScanAt) {
        this.inboxDirty = false;
        this.nextInboxScanAt = now + INBOX_RESCAN_MS;
        inbox = this.takeInbox(now);
      }
      // The clock stepped back (NTP, a user, a VM restored): due times read from the old clock
      // would hold recurring actions back by the whole step.
      const step = this.lastTickAt - now;
      if (this.lastTickAt && step > Math.max(1000, 2 * this.tickMs)) {
        const moved = t.clockSteppedBack(now, step);
        for (const live of this.live.values()) if (live.deadline !== null) live.deadline -= step; // timeouts keep what they had left
        this.store.addEvent(now, 'engine.clockStepped', null, null, { stepMs: step, rescheduled: moved });
        this.log.warn(`the clock went back ${formatDuration(step)}; ${moved} recurring action(s) and retries planned again from now`);
      }
      for (const f of finished) t.finish(f.runId, f.outcome, now);
      this.watchAdopted(); // live runs only: nothing to look at on an idle tick
      for (const [runId, live] of this.live) {
        if (live.deadline === null || live.deadline > now) continue;
        this.live.delete(runId);
        ended.push(runId);
        live.handle?.stop('timeout');
        t.finish(runId, { status: 'failed', exitCode: null, reason: `timed out after ${formatDuration(live.timeoutMs ?? 0)}` }, now);
      }
      if (this.recoverAt && now >= this.recoverAt.at) {
        this.recover(now, this.recoverAt.startedBefore);
        this.recoverAt = undefined;
      }
      const file = this.actionsFile?.take();
      if (file) this.applyActionsFile(file, now);
      for (const [flowId, commit] of this.flowCommitsRead.splice(0)) this.store.write('setFlowCommit', [commit, flowId]);
      const events = this.dev?.take();
      if (events && (events.batches.length || events.warnings.length || events.head)) devStops = this.applyDevEvents(events, now);
      // A paused folder still takes deliveries (stored, answered 202) and processes them once resumed.
      if (this.deliveriesPending && !this.paused) this.deliveriesPending = t.processDeliveries(now, (id) => bodyFile(this.paths, id));
      const cached = this.dueCache;
      const nothingDue = cached !== undefined && cached.commits === db.commitCount && !this.store.inTransaction && (cached.next === null || cached.next > now);
      if (!this.paused && !nothingDue) claims = t.claimDue(now, this.maxConcurrent - this.live.size);
      if (now >= this.nextPruneAt) {
        t.prune(now, this.retention);
        this.bodiesToRemove.push(...t.pruneDeliveries(now, this.retention));
        this.nextPruneAt = now + (this.opts.pruneEveryMs ?? 60_000);
        pruned = true;
      }
      committed = db.commit(); // the one fsync of this tick: everything above is durable before anything runs
      committedAt = performance.now();
    } catch (err) {
      db.rollback();
      this.bodiesToRemove = [];
      this.inboxDirty = true; // its requests were not applied either
      this.finished = finished.concat(this.finished); // nothing was recorded; try again next tick
      throw err;
    }
    this.removeCommittedBodies();
    this.readFlowCommits();
    if (pruned) this.cleanWorktrees();
    this.stopRuns(devStops);
    if (ended.length) this.removeStatusFiles(ended);
    if (inbox) this.answerInbox(inbox, now);
    if (!this.dispatch(claims, committedAt)) return null;
    if (this.dev && (this.devStart || this.transitions!.definitionsVersion !== this.devVersion)) {
      this.refreshDevTriggers(this.devStart);
      this.devStart = false;
    }
    if (committed) this.publish(); // an idle tick has no events to push
    db.maybeSnapshot(now);
    if (this.dueCache?.commits !== db.commitCount || (this.dueCache.next !== null && this.dueCache.next <= now)) {
      this.dueCache = { commits: db.commitCount, next: this.store.nextDueAfter(now) };
    }
    let next = this.dueCache.next;
    for (const live of this.live.values()) if (live.deadline !== null && (next === null || live.deadline < next)) next = live.deadline;
    return next;
  }

  /** Reconciles the engine to a new version of the actions file, or records why it cannot. */
  private applyActionsFile(file: ParsedActionsFile, now: number): void {
    if (file.problems.length) {
      this.store.addEvent(now, 'definitions.invalid', null, null, {
        file: file.sha256,
        problems: file.problems.slice(0, 20).map((p) => ({ line: p.line, column: p.column, message: p.message })),
      });
      return;
    }
    const result = this.store.savepoint(() =>
      reconcile(this.store, this.transitions!, file, {
        now,
        defaultRunner: this.opts.defaultRunner,
        defaultCatchUp: this.opts.defaultCatchUp,
        isApproved: this.opts.isApproved ?? (() => true),
      }),
    );
    this.stopRuns(result.stopRuns);
    const parts = [
      result.created.length && `created ${result.created.join(', ')}`,
      result.updated.length && `updated ${result.updated.join(', ')}`,
      result.removed.length && `ended ${result.removed.join(', ')}`,
      result.approved.length && `approved ${result.approved.join(', ')}`,
      result.passed.length && `not scheduled (their time has passed) ${result.passed.join(', ')}`,
    ].filter(Boolean);
    if (parts.length) this.log.info(`.sdlc/actions.yaml applied: ${parts.join('; ')}`);
    if (result.awaitingApproval.length) this.log.info(`waiting for approval on this machine: ${result.awaitingApproval.join(', ')}`);
  }

  private stopRuns(runIds: string[]): void {
    for (const id of runIds) {
      const live = this.live.get(id);
      this.live.delete(id);
      live?.handle?.stop('cancel');
    }
  }

  /**
   * Claims and applies the requests waiting in the inbox, recording each id with its reply in
   * the open transaction. A request applied before (its owner died before answering) is not
   * applied again: its recorded reply is sent again.
   */
  private takeInbox(now: number): { replies: { id: string; reply: Reply }[]; files: string[] } {
    const replies: { id: string; reply: Reply }[] = [];
    const files: string[] = [];
    for (const { file, msg } of readInbox(this.paths)) {
      const claimed = claimRequest(file);
      if (!claimed) continue; // its asker withdrew it
      files.push(claimed);
      const before = this.store.requestReply(msg.id);
      if (before) {
        replies.push({ id: msg.id, reply: before });
        continue;
      }
      const reply = this.applyGuarded(msg.request, now, msg.ts);
      // A refused request changed nothing, so nothing is recorded: asked again, it is refused again.
      if (reply.ok) this.store.write('recordRequest', [msg.id, now, JSON.stringify(reply)]);
      replies.push({ id: msg.id, reply });
    }
    return { replies, files };
  }

  /** After the commit: the answers, then the request files (a crash in between answers again). */
  private answerInbox(taken: { replies: { id: string; reply: Reply }[]; files: string[] }, now: number): void {
    for (const { id, reply } of taken.replies) writeReply(this.paths, id, reply);
    for (const file of taken.files) fs.rmSync(file, { force: true });
    if (taken.files.length) pruneReplies(this.paths, 60_000, now);
  }

  /** Resolves runs a previous owner left running (see Transitions.recoverInterrupted); adopts those still going. */
  private recover(now: number, startedBefore: number): void {
    const { adopted } = this.transitions!.recoverInterrupted(now, startedBefore, new Set(this.live.keys()), (run) => inspectLeftRun(this.paths.runs, run.runId));
    for (const { run, pid } of adopted) {
      this.live.set(run.runId, {
        actionId: run.actionId,
        deadline: run.deadline,
        timeoutMs: run.deadline !== null ? run.deadline - run.startedAt : undefined,
        handle: { stop: () => killGroup(pid, 'SIGKILL'), adoptable: true },
        adoptedPid: pid,
        adoptedOutput: new RunOutputFile(this.paths.runs, run.runId),
      });
      this.log.info(`run ${run.runId} of "${run.name}" was still going after the restart (pid ${pid}); waiting for it to end`);
    }
  }

  /** Adopted runs end when their exit file appears, or when their process is gone without one. */
  private watchAdopted(): void {
    for (const [runId, live] of this.live) {
      if (live.adoptedPid === undefined) continue;
      live.adoptedOutput?.check();
      const left = inspectLeftRun(this.paths.runs, runId);
      if (left.kind === 'alive') continue;
      const outcome: RunOutcome =
        left.kind === 'exited'
          ? exitOutcome(left.exitCode, 'after the orchestrator restarted', live.adoptedOutput?.tail() ?? left.output)
          : { status: 'failed', exitCode: null, reason: 'recovered from restart (its process ended without an exit status)', interrupted: true };
      this.runDone(runId, outcome);
    }
  }

  /**
   * Starts the claimed runs. Returns false when this engine turned out to be fenced off first:
   * frozen (SIGSTOP, a suspended laptop) after its commit while another process took over,
   * which has recorded the runs not started yet as cut off; starting them now would run what
   * the log says never ran. A pause shows as time passing, so the epoch is read only then.
   */
  private dispatch(claims: Claim[], committedAt = performance.now()): boolean {
    const cwdExists = new Map<string, boolean>(); // a burst of runs in one folder checks it once
    for (const { run, action } of claims) {
      if (performance.now() - committedAt > FREEZE_MS && this.epoch?.superseded) {
        this.loseLease(new FencedError(this.epoch.value));
        return false;
      }
      const live: LiveRun = { actionId: action.id, deadline: run.deadline, timeoutMs: action.policy.timeoutMs, handle: undefined };
      this.live.set(run.runId, live);
      const done = (outcome: RunOutcome) => this.runDone(run.runId, outcome);
      const plain = this.opts.runners[action.run.runner];
      const runner = plain && action.run.isolation === 'worktree' ? isolatedRunner(plain, this.worktrees, (r) => this.commitOf(r.env[FLOW_ENV])) : plain;
      if (!runner) {
        const have = Object.keys(this.opts.runners).join(', ') || 'none';
        done({ status: 'failed', exitCode: null, reason: `no "${action.run.runner}" runner in this orchestrator (${this.opts.label ?? 'engine'} has: ${have})` });
        continue;
      }
      const cwd = path.resolve(this.paths.workspace, action.run.cwd ?? '.');
      if (!cwdExists.has(cwd)) cwdExists.set(cwd, fs.existsSync(cwd));
      if (!cwdExists.get(cwd)) {
        done({ status: 'failed', exitCode: null, reason: `working folder ${cwd} does not exist` });
        continue;
      }
      this.runStartedAt.set(action.id, Date.now());
      try {
        live.handle = runner.start(
          {
            runId: run.runId,
            actionId: action.id,
            name: action.name,
            attempt: run.attempt,
            command: action.run.command,
            task: action.run.task,
            cwd,
            workspace: this.paths.workspace,
            env: {
              ...action.run.env,
              ...this.eventEnv(run),
              // A run that opens no flow is a flow of one: scripts can always read it.
              [FLOW_ENV]: run.flowId ?? run.runId,
              [OUTPUT_ENV]: runStatusFiles(this.paths.runs, run.runId).output,
              SDLC_ACTION_ID: action.id,
              SDLC_ACTION_NAME: action.name,
              SDLC_RUN_ID: run.runId,
              SDLC_ATTEMPT: String(run.attempt),
              SDLC_TRIGGER: run.cause,
              SDLC_WORKSPACE: this.paths.workspace,
            },
            statusDir: this.paths.runs,
          },
          done,
        );
      } catch (err) {
        done({ status: 'failed', exitCode: null, reason: `runner "${action.run.runner}" failed to start: ${(err as Error).message}` });
      }
    }
    return true;
  }

  /** Starts reading HEAD for the flows just opened that have a worktree step (after their commit: async file reads). */
  private readFlowCommits(): void {
    const opened = this.transitions?.flows.needCommit;
    if (!opened?.length) return;
    const dirs = findGitDirs(this.paths.workspace);
    for (const flowId of opened.splice(0)) {
      const read = (dirs ? readHead(dirs) : Promise.resolve(undefined)).then(
        (head) => {
          if (head?.commit) {
            this.flowCommitsRead.push([flowId, head.commit]);
            this.loop.notify();
          }
          return head?.commit ?? null;
        },
        () => null,
      );
      this.flowCommits.set(flowId, read);
      void read.finally(() => setTimeout(() => this.flowCommits.delete(flowId), 60_000).unref());
    }
  }

  /** The commit a worktree step checks out: its flow's, else HEAD now. */
  private async commitOf(flowId: string | undefined): Promise<string> {
    const pending = flowId ? this.flowCommits.get(flowId) : undefined;
    const known = (await pending) ?? (flowId ? this.db?.store.getFlow(flowId)?.commit : null);
    return known ?? this.worktrees.head();
  }

  /** Removes worktrees no run needs: kept while their run goes on, or failed and still in history. */
  private cleanWorktrees(): void {
    const keep = (runId: string) => {
      if (this.live.has(runId) || this.role !== 'owner' || !this.db) return true; // only an owner knows what is over
      if (!/^[0-9a-f-]{36}$/.test(runId)) return true; // not ours
      const run = this.db.store.getRun(runId);
      return run !== undefined && (run.status === 'running' || (run.status === 'failed' && run.worktree !== null));
    };
    this.worktreeCleanup = this.worktreeCleanup
      .then(() => this.worktrees.cleanup(keep))
      .then(
        (n) => n && this.log.info(`removed ${n} git worktree(s) of steps that ended or were pruned`),
        (err) => this.log.warn(`could not clean up .sdlc/worktrees: ${(err as Error).message}`),
      );
  }

  /** A run's event data as its environment; changed paths go to a file (SDLC_CHANGED_FILES), not a variable. */
  private eventEnv(run: RunRow): Record<string, string> {
    if (run.data[CHANGED_LIST] === undefined) return run.data;
    const { [CHANGED_LIST]: list, ...env } = run.data;
    const file = runStatusFiles(this.paths.runs, run.runId).changed;
    try {
      fs.mkdirSync(this.paths.runs, { recursive: true });
      fs.writeFileSync(file, list ? `${list}\n` : '');
      env.SDLC_CHANGED_FILES = file;
    } catch (err) {
      this.log.warn(`could not write the changed-files list of run ${run.runId}: ${(err as Error).message}`);
    }
    return env;
  }

  /** The ended runs' status files, removed off this thread; stop() waits for what is in flight. */
  private removeStatusFiles(runIds: string[]): void {
    const removing = removeRunStatus(this.paths.runs, runIds).then((err) => {
      this.removing.delete(removing);
      if (err) this.log.warn(`could not remove a run's status file: ${err.message}`);
    });
    this.removing.add(removing);
  }

  private runDone(runId: string, outcome: RunOutcome): void {
    const live = this.live.get(runId);
    if (!live || !this.live.delete(runId)) return; // already settled (timeout, cancel, lost lease)
    this.runEndedAt.set(live.actionId, Date.now());
    this.finished.push({ runId, outcome });
    this.loop.notify();
    if (this.live.size === 0) this.drained?.();
  }

  /** Pushes events committed since the last push to subscribers (own commits and followed ones). */
  private publish(): void {
    if (!this.db) return;
    if (this.transitions && this.transitions.notificationsQueued !== this.notificationsSeen) {
      this.notificationsSeen = this.transitions.notificationsQueued;
      this.outbox.kick(); // after this commit: its notifications are durable now
    }
    this.pausedFlag = this.store.getMeta('paused') === '1';
    const last = this.store.lastSeq();
    if (this.publishedSeq > last) this.publishedSeq = 0; // history cleared or db replaced
    if (!this.eventListeners.size) {
      this.publishedSeq = last;
      return;
    }
    for (;;) {
      const events = this.store.eventsSince(this.publishedSeq, 1000);
      if (!events.length) return;
      this.publishedSeq = events[events.length - 1].seq;
      for (const l of this.eventListeners) {
        try {
          l(events);
        } catch (err) {
          this.log.error('event listener failed', err);
        }
      }
    }
  }

  // ---- requests: applied here when we own the folder, sent to the owner when we follow ----

  private applyGuarded(request: Request, now: number, askedAt: number): Reply {
    try {
      return { ok: true, result: this.store.savepoint(() => this.apply(request, now, askedAt)) };
    } catch (err) {
      if (!(err instanceof ValidationError || err instanceof NotFoundError)) this.log.error(`request ${request.op} failed`, err);
      return { ok: false, error: (err as Error).message, field: err instanceof ValidationError ? err.field : err instanceof NotFoundError ? 'id' : undefined };
    }
  }

  private apply(request: Request, now: number, askedAt: number): unknown {
    const t = this.transitions!;
    const stop = (runIds: string[]) => this.stopRuns(runIds);
    switch (request.op) {
      case 'add':
        return this.addNow(request.actions, now, askedAt);
      case 'cancel':
        this.refuseFileAction(request.id, 'cancel');
        stop(t.cancel(request.id, now));
        return publicAction(this.store.findAction(request.id)!);
      case 'delete':
        this.refuseFileAction(request.id, 'delete');
        stop(t.remove(request.id, now));
        return null;
      case 'approve':
        return { approved: approveKeys(this.store, t, request.keys, now) };
      case 'runNow':
        return publicAction(t.runNow(request.id, now));
      case 'pauseAction':
        return publicAction(t.setHeld(request.id, true, now));
      case 'resumeAction':
        return publicAction(t.setHeld(request.id, false, now));
      case 'pause':
      case 'resume': {
        const paused = request.op === 'pause';
        if (this.paused !== paused) {
          this.store.setMeta('paused', paused ? '1' : '0');
          this.pausedFlag = paused;
          this.store.addEvent(now, paused ? 'orchestrator.paused' : 'orchestrator.resumed', null, null, {});
        }
        return { paused };
      }
      case 'clearHistory':
        this.bodiesToRemove.push(...t.clearHistory(now));
        return null;
      case 'replayDelivery':
        return this.intake.replay(request.id, now);
      case 'taskEnded':
        this.dev?.taskEnded(request.label, request.exitCode ?? undefined);
        return null;
      case 'cancelFlow': {
        const flow = this.store.getFlow(request.id) ?? this.store.flowByPrefix(request.id);
        stop(t.flows.cancel(request.id, 'flow cancelled by user', now));
        return flow ? this.store.flowWithSteps(flow.flowId) : null;
      }
      case 'rerunFlow': {
        const { flowId } = t.flows.rerunFailed(request.id, now);
        return this.store.flowWithSteps(flowId);
      }
    }
  }

  /** An unfinished action from the actions file ends only by being removed from the file. */
  private refuseFileAction(idOrName: string, what: string): void {
    const a = this.store.findAction(idOrName);
    if (a?.source === 'file' && !FINISHED_ACTION_STATES.includes(a.status)) {
      throw new ValidationError('id', `action "${a.name}" is defined in .sdlc/actions.yaml; to ${what} it, remove it from that file (its history stays)`);
    }
  }

  private addNow(inputs: ActionInput[], now: number, askedAt: number): { actions: Action[]; created: boolean[] } {
    const existing = inputs.map((i) => (i.idempotencyKey ? this.store.getActionByKey(i.idempotencyKey) : undefined));
    const fresh = inputs.filter((_, i) => !existing[i]);
    // Validated against the time it was asked, so a request that waited in the inbox is not "in the past".
    const validated = validateActions(
      fresh,
      { find: (id) => this.store.findAction(id) },
      { now: askedAt, defaultRunner: this.opts.defaultRunner, defaultCatchUp: this.opts.defaultCatchUp, pastToleranceMs: Math.max(0, now - askedAt) },
    );
    const accepted = this.transitions!.accept(validated, now);
    let k = 0;
    return {
      actions: inputs.map((_, i) => publicAction(existing[i] ?? accepted[k++])),
      created: inputs.map((_, i) => !existing[i]),
    };
  }

  /** Applies a request: at once when we own the folder, through the owner's inbox when we follow. */
  async request(request: Request): Promise<unknown> {
    if (this.role === 'owner') {
      const now = this.clock.now();
      // Recorded with an id like any inbox request: if a new owner fenced this one off mid-commit,
      // the same id sent to it finds out whether the change made it, and is never applied twice.
      const id = uuidv4();
      const reply = this.applyGuarded(request, now, now);
      try {
        if (reply.ok) this.store.write('recordRequest', [id, now, JSON.stringify(reply)]);
        this.db!.commit();
      } catch (err) {
        this.db?.rollback();
        this.bodiesToRemove = [];
        if (!(err instanceof FencedError)) throw err;
        this.loseLease(err);
        return unwrapReply(await awaitAnswer(this.paths, postRequest(this.paths, this.instance, request, now, id), this.opts.requestTimeoutMs ?? 10_000, this.leaseStaleMs));
      }
      this.removeCommittedBodies();
      this.publish();
      this.loop.notify();
      if (!reply.ok) throw reply.field ? new ValidationError(reply.field, reply.error) : new Error(reply.error);
      return reply.result;
    }
    if (this.role !== 'follower') throw new Error('the orchestrator is not running');
    // A follower takes the folder over on its own tick when the owner goes; then it answers itself.
    const posted = postRequest(this.paths, this.instance, request, this.clock.now());
    return unwrapReply(await awaitAnswer(this.paths, posted, this.opts.requestTimeoutMs ?? 10_000, this.leaseStaleMs));
  }

  add(actions: ActionInput | ActionInput[]): Promise<{ actions: Action[]; created: boolean[] }> {
    return this.request({ op: 'add', actions: Array.isArray(actions) ? actions : [actions] }) as Promise<{ actions: Action[]; created: boolean[] }>;
  }
  cancel(id: string): Promise<unknown> {
    return this.request({ op: 'cancel', id });
  }
  runNow(id: string): Promise<unknown> {
    return this.request({ op: 'runNow', id });
  }
  remove(id: string): Promise<unknown> {
    return this.request({ op: 'delete', id });
  }
  pauseAction(id: string): Promise<unknown> {
    return this.request({ op: 'pauseAction', id });
  }
  resumeAction(id: string): Promise<unknown> {
    return this.request({ op: 'resumeAction', id });
  }
  pause(): Promise<unknown> {
    return this.request({ op: 'pause' });
  }
  resume(): Promise<unknown> {
    return this.request({ op: 'resume' });
  }
  clearHistory(): Promise<unknown> {
    return this.request({ op: 'clearHistory' });
  }
  /** Stores a copy of a delivery as a new one; the next tick processes it like any other. */
  replayDelivery(id: string): Promise<{ id: string; hook: string }> {
    return this.request({ op: 'replayDelivery', id }) as Promise<{ id: string; hook: string }>;
  }

  /** Cancels a running flow run: its queued steps are taken back and its running ones stopped. */
  cancelFlow(id: string): Promise<Flow> {
    return this.request({ op: 'cancelFlow', id }) as Promise<Flow>;
  }

  /** Runs an ended flow's failed (and cancelled) steps and everything after them again, in the same flow. */
  rerunFlow(id: string): Promise<Flow> {
    return this.request({ op: 'rerunFlow', id }) as Promise<Flow>;
  }

  /** How an action has been doing over its latest runs (success rate, durations, flaky). */
  health(actionId: string): Health | undefined {
    const store = this.db?.store;
    return store ? healthOf(store, actionId) : undefined;
  }

  /** Flow runs, latest first. */
  listFlows(limit = 50, before?: number): Flow[] {
    return this.db?.store.flows(limit, before) ?? [];
  }

  /** One flow run with its steps (topological order) and their runs. */
  getFlow(id: string): (Flow & { runs: RunSummary[] }) | undefined {
    const store = this.db?.store;
    if (!store) return undefined;
    const found = store.getFlow(id) ?? store.flowByPrefix(id);
    const flow = found && store.flowWithSteps(found.flowId);
    return flow && { ...flow, runs: store.runSummariesOfFlow(flow.flowId) };
  }

  // ---- webhooks ----

  private removeCommittedBodies(): void {
    if (!this.bodiesToRemove.length) return;
    removeBodies(this.paths, this.bodiesToRemove);
    this.bodiesToRemove = [];
  }

  get webhookUrl(): string | undefined {
    return this.intake.url;
  }

  deliveries(limit = 100, beforeReceivedAt?: number): Delivery[] {
    return this.store.deliveries(limit, beforeReceivedAt);
  }

  getDelivery(id: string): Delivery | undefined {
    return this.store.getDelivery(id);
  }

  runsOfDelivery(id: string): RunRow[] {
    return this.store.runsOfDelivery(id);
  }

  /** The raw body as received, byte for byte. */
  deliveryBody(id: string): Buffer | undefined {
    return readBody(this.paths, id);
  }

  // ---- reading ----

  /** Kept in memory (read from the database when it is opened or followed), not queried each tick. */
  get paused(): boolean {
    return this.pausedFlag;
  }
  private pausedFlag = false;

  listActions(): Action[] {
    return this.store.activeActions().map(publicAction);
  }

  getAction(idOrName: string): Action | undefined {
    const a = this.store.findAction(idOrName);
    return a && publicAction(a);
  }

  history(limit = 100, beforeEndedAt?: number): RunRow[] {
    return this.store.history(limit, beforeEndedAt);
  }

  eventsSince(seq: number, limit = 1000): LifecycleEvent[] {
    return this.store.eventsSince(seq, limit);
  }

  /** One action's lifecycle, the newest `limit` events, oldest first. */
  eventsOf(actionId: string, limit = 500): LifecycleEvent[] {
    return this.store.eventsOf(actionId, limit);
  }

  /**
   * Subscribes to lifecycle events committed (or followed) from now on; read earlier ones with
   * eventsSince(). Returns an unsubscribe.
   */
  onEvents(listener: (events: LifecycleEvent[]) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Called after every tick with the loop's state (the status bar's heartbeat). */
  onTick(listener: (status: EngineStatus) => void): () => void {
    this.tickListeners.add(listener);
    return () => this.tickListeners.delete(listener);
  }

  status(): EngineStatus {
    const store = this.db?.store;
    return {
      role: this.role,
      paused: this.paused,
      tickMs: this.tickMs,
      ticks: this.ticks,
      lastTickMs: this.lastTickMs,
      counts: store ? this.counts() : {},
      inFlight: this.live.size,
      nextDueAt: !store ? null : this.role === 'owner' && this.dueCache?.commits === this.db!.commitCount ? this.dueCache.next : store.nextDueAfter(0),
      owner: this.role === 'owner' ? undefined : readOwner(this.paths),
      error: this.error,
      definitions:
        this.role === 'owner' && this.actionsFile?.latest
          ? { file: this.actionsFile.file, problems: this.actionsFile.latest.problems, actions: this.actionsFile.latest.actions.length }
          : undefined,
    };
  }

  /** Counts by status, read again only after something committed (status() runs every tick). */
  private counts(): Partial<Record<ActionStatus, number>> {
    if (this.role !== 'owner') return this.store.countsByStatus();
    const commits = this.db!.commitCount;
    if (this.countsCache?.commits !== commits) this.countsCache = { commits, counts: this.store.countsByStatus() };
    return this.countsCache.counts;
  }

  /** Nothing scheduled, retrying or running, and nothing waiting to be recorded or applied. */
  isIdle(): boolean {
    if (this.role !== 'owner' || this.live.size || this.finished.length || this.intake.busy || this.actionsFile?.busy || this.outbox.busy) return false;
    if (this.deliveriesPending && !this.paused) return false;
    const c = this.counts();
    if ((c.scheduled ?? 0) + (c.retrying ?? 0) + (c.running ?? 0) > 0) return false;
    return readInbox(this.paths).length === 0;
  }

  // ---- stopping ----

  /**
   * Stops cleanly: waits up to `graceMs` for runs in flight, interrupts the rest (recorded per
   * their policy), commits, writes a snapshot and releases the lease. With `handOver`, runs
   * the next owner can adopt (process runs) are left going and stay recorded as running: a
   * window reload must not kill a build; the next owner records how it ends.
   */
  async stop(options: { graceMs?: number; handOver?: boolean } = {}): Promise<void> {
    if (this.role === 'stopped') return;
    if (this.role === 'owner' && this.live.size && options.graceMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.graceMs);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.drained = undefined;
    }
    this.loop.stop();
    const wasOwner = this.role === 'owner';
    // No new deliveries once stopping: they would get a 202 from an engine that no longer ticks.
    this.unwatchInbox();
    this.outbox.stop();
    this.api?.close();
    await this.intake.stop(true);
    await this.actionsFile?.stop();
    const devStopped = this.dev?.stop(); // closing watchers need not hold up recording the runs' ends
    this.dev = undefined;
    this.role = 'stopped';
    if (wasOwner && this.db) {
      const now = this.clock.now();
      const t = this.transitions!;
      try {
        for (const f of this.finished) t.finish(f.runId, f.outcome, now);
        this.finished = [];
        for (const [runId, live] of this.live) {
          if (options.handOver && live.handle?.adoptable) continue;
          // A run whose command has just ended (its exit status written, its close not yet seen
          // here) ended by itself: recorded as it did, not as interrupted.
          const exited = live.handle?.adoptable ? recordedExit(this.paths.runs, runId) : undefined;
          if (exited !== undefined) {
            t.finish(runId, exitOutcome(exited, 'as the orchestrator stopped', recordedOutput(this.paths.runs, runId)), now);
            continue;
          }
          live.handle?.stop('shutdown');
          t.finish(runId, { status: 'failed', exitCode: null, reason: 'interrupted: the orchestrator stopped', interrupted: true }, now);
        }
        this.live.clear();
        this.store.addEvent(now, 'orchestrator.stopped', null, null, { instance: this.instance });
        this.db.commit();
        this.publish();
      } catch (err) {
        this.db.rollback();
        this.log.error('recording the shutdown', err);
      }
    }
    const db = this.db;
    this.db = undefined;
    if (wasOwner && db) {
      try {
        await db.flush(); // in a worker when the database is large: stopping does not stall the host either
      } catch (err) {
        if (!(err instanceof FencedError)) this.log.error('writing the last snapshot (the journal keeps everything)', err);
      }
    }
    db?.close({ snapshot: false });
    await db?.closed(); // the snapshot it started from, kept while it paged from it, removed before it lets go
    await this.followerReload; // a follower's load under way closes what it read (the role is stopped)
    await Promise.all(this.removing);
    await devStopped;
    if (wasOwner) await this.lease.release();
  }
}

function unwrapReply(reply: Reply): unknown {
  if (!reply.ok) throw reply.field ? new ValidationError(reply.field, reply.error) : new Error(reply.error);
  return reply.result;
}

/** The asker gave up before an owner took its request, and withdrew it: nothing was applied. */
export class NotAppliedError extends Error {}

/**
 * Waits for the answer to a posted request. `serve` (when nobody owns the folder) lets the
 * asker take the folder and apply the inbox itself. When time runs out the request is
 * withdrawn: then it is definitely not applied, and the error says so. If an owner claimed it
 * first, it is being applied and its answer comes (from that owner, or from the next one if it
 * died), so the wait goes on: an answer a script must act on is never "maybe".
 */
export async function awaitAnswer(paths: SdlcPaths, posted: Posted, timeoutMs: number, leaseStaleMs: number, serve?: () => Promise<boolean>): Promise<Reply> {
  const started = Date.now();
  let claimedNoticed = false;
  for (let pause = 5; ; pause = Math.min(pause * 2, 50)) {
    const reply = takeReply(paths, posted.msg.id);
    if (reply) return reply;
    if (serve && (await serve())) {
      pause = 0;
      continue; // the reply is there now (or the inbox changed hands): look again at once
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs && !claimedNoticed) {
      if (withdrawRequest(posted)) {
        const owner = readOwner(paths);
        throw new NotAppliedError(
          `the orchestrator that owns ${paths.workspace}${owner ? ` (${owner.label}, pid ${owner.pid})` : ''} did not take the request within ${formatDuration(timeoutMs)}; ` +
            'it was withdrawn and NOT applied, so nothing changed; try again',
        );
      }
      claimedNoticed = true; // an owner is applying it; its answer decides
    }
    // An owner that claimed it and then froze or died loses the folder within the lease's staleness.
    if (claimedNoticed && waited >= timeoutMs + 30 * leaseStaleMs) {
      throw new Error(`the request ${posted.msg.id} was taken by the folder's owner, which has not answered in ${formatDuration(waited)}; look for it with "sdlc-orchestrator events"`);
    }
    await new Promise((r) => setTimeout(r, pause));
  }
}

/**
 * The action as callers see it: the engine's bookkeeping columns left out, and a notification
 * URL's secret path too (only the outbox sender reads it, from the store).
 */
export function publicAction(a: ActionRow): Action {
  const { nextAt: _n, occurrenceAt: _o, pendingSince: _p, held: _h, defHash: _d, gate: _g, ...rest } = a;
  const n = rest.policy.notify;
  return n && n !== 'off' ? { ...rest, policy: { ...rest.policy, notify: { ...n, url: redactTarget(n.url) } } } : rest;
}
