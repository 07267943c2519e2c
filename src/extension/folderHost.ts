// One workspace folder's orchestrator inside the extension host: the engine with the task,
// terminal and process runners, started lazily, stopped cleanly, its changes announced.
import { vscodeFileWatcher } from './vscodeFileWatch';
import * as vscode from 'vscode';
import type { FileAction } from '../core/definitions/actionsFile';
import type { Logger } from '../core/log';
import type { LifecycleEvent } from '../core/model';
import { Orchestrator, type EngineStatus } from '../core/orchestrator';
import type { Runner } from '../core/runner';
import type { FolderView } from './model/treeModel';
import type { Settings } from './settings';
import { readWebhookInfo } from '../core/webhookFiles';

/** The latest deliveries the tree lists; the CLI's `deliveries` and the panel show more. */
const DELIVERIES_SHOWN = 20;
/** Flow runs read for the tree: enough to label the flows its History shows. */
const FLOWS_SHOWN = 50;

export class FolderHost implements vscode.Disposable {
  private orch: Orchestrator | undefined;
  private starting: Promise<Orchestrator> | undefined;
  private unsubscribe: (() => void)[] = [];
  private startError: string | undefined;
  /** What the engine reported at its last tick: the status bar renders from it, no re-query. */
  lastStatus: EngineStatus | undefined;
  private snapshot:
    | {
        role: string;
        limit: number;
        following: string | undefined;
        actions: FolderView['actions'];
        history: FolderView['history'];
        deliveries: FolderView['deliveries'];
        webhookUrl: string | undefined;
        flows: FolderView['flows'];
      }
    | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  private readonly ticked = new vscode.EventEmitter<EngineStatus>();
  private readonly eventsEmitter = new vscode.EventEmitter<LifecycleEvent[]>();
  /** The folder's state changed (an event was committed or followed). */
  readonly onDidChange = this.changed.event;
  /** Every tick, with the loop's state: the status bar's heartbeat. */
  readonly onDidTick = this.ticked.event;
  readonly onDidCommitEvents = this.eventsEmitter.event;

  constructor(
    readonly folder: vscode.WorkspaceFolder,
    private readonly settings: Settings,
    private readonly log: Logger,
    private readonly runners: Record<string, Runner>,
    private readonly wasmPath: string,
    /** This machine's approvals of commands from the folder's actions file. */
    private readonly isApproved: (a: FileAction) => boolean,
  ) {}

  get orchestrator(): Orchestrator | undefined {
    return this.orch;
  }

  get started(): boolean {
    return this.orch !== undefined;
  }

  get error(): string | undefined {
    return this.startError ?? this.orch?.status().error;
  }

  /** Starts the folder's orchestrator (owning or following); safe to call repeatedly. */
  start(): Promise<Orchestrator> {
    if (this.orch) return Promise.resolve(this.orch);
    this.starting ??= (async () => {
      try {
        const s = this.settings;
        const notify = s.notifyDefault;
        if (notify.error) void vscode.window.showWarningMessage(vscode.l10n.t('SDLC Orchestrator: {0}; runs are not announced until it is fixed', notify.error));
        const orch = await Orchestrator.create({
          workspace: this.folder.uri.fsPath,
          runners: this.runners,
          label: 'vscode',
          log: this.log,
          wasmPath: this.wasmPath,
          tickMs: s.tickIntervalMs,
          maxConcurrent: s.maxConcurrentRuns,
          retention: { maxAgeMs: s.historyRetentionDays * 86_400_000, maxRuns: s.historyRetentionRuns },
          defaultRunner: s.defaultRunner,
          defaultCatchUp: s.catchUpDefault,
          isApproved: this.isApproved,
          fileWatcher: vscodeFileWatcher,
          webhook: s.webhooksEnabled
            ? {
                host: s.webhooksHost,
                port: s.webhooksPort,
                maxBodyBytes: s.webhooksMaxBodyBytes,
                rate: { perMinute: s.webhooksRatePerMinute, burst: Math.max(5, Math.ceil(s.webhooksRatePerMinute / 4)) },
              }
            : false,
          api: s.apiEnabled ? {} : false,
          ...(notify.spec ? { notify: notify.spec } : {}),
        });
        this.unsubscribe.push(
          orch.onEvents((events) => {
            this.snapshot = undefined; // the change feed is the only thing that invalidates it
            this.eventsEmitter.fire(events);
            this.changed.fire();
            // Problems found while running (a watcher at the OS limit): said where the user looks.
            for (const e of events) {
              if (e.type === 'engine.warning' && typeof e.data.message === 'string') void vscode.window.showWarningMessage(vscode.l10n.t('SDLC Orchestrator ({0}): {1}', this.folder.name, e.data.message));
            }
          }),
          orch.onTick((status) => {
            this.lastStatus = status;
            this.ticked.fire(status);
          }),
        );
        await orch.start();
        for (const w of orch.warnings) void vscode.window.showWarningMessage(vscode.l10n.t('SDLC Orchestrator ({0}): {1}', this.folder.name, w));
        this.orch = orch;
        this.startError = undefined;
        this.changed.fire();
        return orch;
      } catch (err) {
        this.startError = (err as Error).message;
        this.log.error(`could not start the orchestrator for ${this.folder.name}`, err);
        this.changed.fire();
        throw err;
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  /**
   * Stops cleanly: the tick in flight finishes, state is made durable, the lease released.
   * Background process runs keep going (a reload or a closed window must not kill a build);
   * the next orchestrator on the folder adopts them and records how they end.
   */
  async stop(): Promise<void> {
    const orch = this.orch ?? (await this.starting?.catch(() => undefined));
    this.orch = undefined;
    this.unsubscribe.forEach((u) => u());
    this.unsubscribe = [];
    await orch?.stop({ handOver: true });
    this.snapshot = undefined;
    this.lastStatus = undefined;
    this.changed.fire();
  }

  /** What the tree shows for this folder. */
  view(historyLimit: number, notice?: FolderView['notice']): FolderView {
    const base = { name: this.folder.name, path: this.folder.uri.fsPath, actions: [], history: [], deliveries: [] };
    if (notice) return { ...base, notice };
    if (this.startError) return { ...base, notice: { text: vscode.l10n.t('Could not start: {0}', this.startError), icon: 'error', command: 'sdlc.showLog' } };
    const orch = this.orch;
    if (!orch) return { ...base, notice: { text: vscode.l10n.t('Starting…'), icon: 'loading~spin' } };
    try {
      // Re-rendering for the clock ("in 3 min" ages) reuses what was read; only the change
      // feed (or a role change) makes the tree read the database again.
      const role = orch.currentRole;
      if (!this.snapshot || this.snapshot.role !== role || this.snapshot.limit !== historyLimit) {
        const owner = role === 'follower' ? orch.status().owner : undefined;
        this.snapshot = {
          role,
          limit: historyLimit,
          following: role !== 'follower' ? undefined : owner?.label === 'cli' ? vscode.l10n.t('the CLI') : vscode.l10n.t('another window'),
          actions: orch.listActions(),
          history: orch.history(historyLimit),
          deliveries: orch.deliveries(DELIVERIES_SHOWN),
          flows: orch.listFlows(FLOWS_SHOWN),
          // A follower finds the owner's listener where the CLI does.
          webhookUrl: orch.webhookUrl ?? readWebhookInfo(orch.paths)?.url ?? undefined,
        };
      }
      const { following, actions, history, deliveries, webhookUrl, flows } = this.snapshot;
      return { ...base, following, actions, history, deliveries, webhookUrl, flows };
    } catch (err) {
      return { ...base, notice: { text: vscode.l10n.t('Cannot read the state: {0}', (err as Error).message), icon: 'error', command: 'sdlc.showLog' } };
    }
  }

  dispose(): void {
    void this.stop();
    this.changed.dispose();
    this.ticked.dispose();
    this.eventsEmitter.dispose();
  }
}
