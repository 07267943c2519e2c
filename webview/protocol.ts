// The one message protocol between the panel's host (src/extension/panel.ts) and its webview
// (webview/main.ts). Both import this module. The webview asks (requests with ids, each
// answered by one reply); the host pushes (events, never answered). The webview's first
// request is `ready`, answered with the whole state; after that the host pushes each change.
// No DOM and no vscode here: the transport is passed in, so the protocol runs in plain mocha.
import type { Action, ActionStatus, Delivery, EventType, Flow, LifecycleEvent, RunSummary, TriggerKind } from '../src/core/model';
import type { WhenKind } from '../src/extension/model/whenChoices';
import type { Health } from '../src/core/health';
import type { GanttRow } from '../src/core/store/store';

/** Bumped when a message changes shape; a webview restored from an older build asks again. */
export const PROTOCOL_VERSION = 1;

/** A run as the panel lists it: no output, plus its action's command and trigger kind. */
export type PanelRun = RunSummary;

/** The most runs the Gantt view reads for one window, and how many a page holds. */
export const GANTT_LIMIT = 20_000;
export const GANTT_PAGE = 2000;

export interface Filter {
  text: string;
  /** An action state (queue) or a run state (history); '' is any. */
  status: '' | ActionStatus;
  runner: string;
  trigger: '' | TriggerKind;
}

export const EMPTY_FILTER: Filter = { text: '', status: '', runner: '', trigger: '' };

/** An action of the actions file as exported to GitHub Actions (src/extension/model/exportState.ts). */
export interface ExportState {
  state: 'exported' | 'stale' | 'missing' | 'conflict' | 'unsupported';
  /** The workflow file, relative to the folder. */
  workflow?: string;
  /** Why it cannot be exported. */
  reason?: string;
}

export interface Snapshot {
  protocol: number;
  folders: { path: string; name: string }[];
  folder: string;
  /** Why the folder shows nothing live (untrusted, not started, an error). */
  notice?: string;
  following?: string;
  paused: boolean;
  actions: Action[];
  /** The newest finished runs; `historyComplete` false means older pages can be asked for. */
  history: PanelRun[];
  historyComplete: boolean;
  deliveries: Delivery[];
  webhookUrl?: string;
  lastSeq: number;
  filter: Filter;
  /** File actions by name: exported to GitHub Actions, and whether that is current. */
  exports?: Record<string, ExportState>;
  /** The translations of the page's strings for VS Code's language (none for English). */
  l10n?: Record<string, string>;
}

/**
 * One commit's worth of change, pushed as the engine's change feed reports it. (When history
 * is pruned or cleared the host pushes a whole snapshot instead.)
 */
export interface Delta {
  folder: string;
  events: LifecycleEvent[];
  /** Actions created or changed (finished ones included: they leave the queue). */
  actions: Action[];
  removedActions: string[];
  /** Runs started or finished. */
  runs: PanelRun[];
  deliveries: Delivery[];
  paused: boolean;
}

export interface TimelineEntry {
  seq: number;
  ts: number;
  type: EventType;
  runId: string | null;
  data: Record<string, unknown>;
}

export interface Payload {
  delivery: Delivery;
  /** json: pretty-printed; text: as sent; binary/missing: a sentence saying so. */
  kind: 'json' | 'text' | 'binary' | 'missing' | 'empty';
  text: string;
  truncated: boolean;
}

export interface Details {
  actionId: string;
  /** Undefined when the action was deleted (its runs stay in the history). */
  action?: Action;
  /** Upstream action's name, for "after" triggers. */
  afterName?: string;
  run?: PanelRun & {
    outputTail: string;
    /** What started it, in words (the files, the commit, the task). */ event?: string;
    /** The git worktree it ran in, kept after a failure. */ worktree?: string;
  };
  /** The flow run the shown run is a step of: its steps (topological order), live. */
  flow?: FlowView;
  /** How the action has been doing over its latest runs. */
  health?: Health;
  runs: PanelRun[];
  nextRuns: number[];
  timeline: TimelineEntry[];
  payload?: Payload;
  /** For an action of the actions file: its export to GitHub Actions. */
  export?: ExportState;
  /** The folder's default notification (the settings), for an action that says nothing about notify. */
  notifyDefault?: { url: string; on: string; format: string };
  /** Its latest notifications, newest first, each with its attempts. */
  notifications?: NotificationView[];
}

/** A flow run as the panel draws it: each step with its latest run's attempt (retries). */
export interface FlowView extends Flow {
  steps: (NonNullable<Flow['steps']>[number] & { runAttempt?: number })[];
}

/** A notification from the outbox as the panel shows it: the target without its secret. */
export interface NotificationView {
  id: string;
  runId: string;
  status: 'pending' | 'sent' | 'failed';
  /** Scheme and host only, or $NAME. */
  target: string;
  format: string;
  createdAt: number;
  endedAt: number | null;
  nextAt: number | null;
  lastError: string | null;
  /** Each attempt, oldest first (from its notification.attempted events). */
  attempts: { ts: number; ok: boolean; httpStatus: number | null; error: string | null; nextAt: number | null }[];
}

/** A webhook delivery from the inbox: its payload and the runs it queued. */
export interface DeliveryDetails {
  payload: Payload;
  runs: PanelRun[];
}

export type PanelOp =
  | 'runNow'
  | 'cancel'
  | 'rerun'
  | 'delete'
  | 'pauseAction'
  | 'resumeAction'
  | 'pauseAll'
  | 'resumeAll'
  | 'openDefinition'
  | 'approve'
  | 'cancelFlow'
  | 'rerunFlow'
  | 'openWorktree'
  | 'createActionsFile'
  | 'openWalkthrough';

export interface AddForm {
  name: string;
  command: string;
  runner: 'task' | 'terminal' | 'process';
  when: WhenKind;
  value: string;
}

/** What the form shows under each field as the user types; `ok` when it can be added. */
export interface FormFeedback {
  ok: boolean;
  name?: string;
  command?: string;
  value?: string;
  info?: string;
}

/** Every request the webview may make: its parameters and the host's answer. */
export interface Requests {
  ready: { params: { folder?: string; protocol: number }; result: Snapshot };
  history: { params: { folder: string; before: { endedAt: number; runId: string } | undefined; limit: number }; result: { runs: PanelRun[]; complete: boolean } };
  details: { params: { folder: string; actionId: string; runId?: string }; result: Details | undefined };
  delivery: { params: { folder: string; deliveryId: string }; result: DeliveryDetails | undefined };
  /** A page of the runs of a time window, for the Gantt view (running ones, then newest end first). */
  gantt: { params: { folder: string; from: number; to: number; before?: { endedAt: number; runId: string }; limit: number }; result: { runs: GanttRow[]; complete: boolean } };
  act: { params: { folder: string; op: PanelOp; actionId?: string; flowId?: string; runId?: string }; result: { done: boolean; message?: string } };
  validate: { params: { folder: string; form: AddForm }; result: FormFeedback };
  add: { params: { folder: string; form: AddForm }; result: { feedback: FormFeedback; actionId?: string } };
  saveFilter: { params: { filter: Filter }; result: null };
  showOutput: { params: { folder: string; runId: string; name: string }; result: null };
  showDelivery: { params: { folder: string; deliveryId: string }; result: null };
  replay: { params: { folder: string; deliveryId: string }; result: null };
}

/** Everything the host pushes. */
export interface Pushes {
  snapshot: Snapshot;
  delta: Delta;
  /** The export states changed (the actions file or a workflow was saved). */
  exports: { folder: string; exports: Record<string, ExportState> };
  /** Show this action (and run): a link that opens a run in VS Code was followed. */
  select: { folder: string; actionId: string; runId?: string; tab?: string };
}

export type Method = keyof Requests;

export type Message =
  | { kind: 'request'; id: number; method: Method; params: unknown }
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string }
  | { kind: 'push'; event: keyof Pushes; data: unknown };

const PUSHES: readonly (keyof Pushes)[] = ['snapshot', 'delta', 'exports', 'select'];
const METHODS: readonly Method[] = ['ready', 'history', 'details', 'delivery', 'gantt', 'act', 'validate', 'add', 'saveFilter', 'showOutput', 'showDelivery', 'replay'];

/** Checks the envelope of anything received: the other side is code, but a webview is untrusted input. */
export function asMessage(m: unknown): Message | undefined {
  if (!m || typeof m !== 'object') return undefined;
  const x = m as Record<string, unknown>;
  if (x.kind === 'request') return Number.isSafeInteger(x.id) && METHODS.includes(x.method as Method) ? (x as Message) : undefined;
  if (x.kind === 'reply') return Number.isSafeInteger(x.id) && typeof x.ok === 'boolean' ? (x as Message) : undefined;
  if (x.kind === 'push') return PUSHES.includes(x.event as keyof Pushes) ? (x as Message) : undefined;
  return undefined;
}

/** How messages travel: `webview.postMessage` on the host, `acquireVsCodeApi().postMessage` in the page. */
export interface Transport {
  post(message: Message): void;
  /** Returns an unsubscribe. */
  listen(handler: (message: unknown) => void): () => void;
}

export type Handlers = { [M in Method]: (params: Requests[M]['params']) => Requests[M]['result'] | Promise<Requests[M]['result']> };

/** The host's end: answers requests with its handlers, pushes events. */
export class HostEnd {
  private readonly stop: () => void;

  constructor(
    private readonly transport: Transport,
    handlers: Handlers,
  ) {
    this.stop = transport.listen((raw) => {
      const m = asMessage(raw);
      if (m?.kind !== 'request') return;
      const handler = handlers[m.method] as (p: unknown) => unknown;
      Promise.resolve()
        .then(() => handler(m.params))
        .then(
          (result) => transport.post({ kind: 'reply', id: m.id, ok: true, result: result ?? null }),
          (err: unknown) => transport.post({ kind: 'reply', id: m.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
        );
    });
  }

  push<E extends keyof Pushes>(event: E, data: Pushes[E]): void {
    this.transport.post({ kind: 'push', event, data });
  }

  dispose(): void {
    this.stop();
  }
}

/** The webview's end: requests that resolve with the host's reply, and push listeners. */
export class WebviewEnd {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private readonly listeners: { [E in keyof Pushes]?: ((data: Pushes[E]) => void)[] } = {};
  private readonly stop: () => void;

  constructor(
    private readonly transport: Transport,
    /** A reply that never comes (the host was reloaded) fails the request instead of hanging it. */
    private readonly timeoutMs = 30_000,
  ) {
    this.stop = transport.listen((raw) => {
      const m = asMessage(raw);
      if (m?.kind === 'reply') {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.result);
        else p.reject(new Error(m.error));
      } else if (m?.kind === 'push') {
        for (const l of this.listeners[m.event] ?? []) (l as (d: unknown) => void)(m.data);
      }
    });
  }

  request<M extends Method>(method: M, params: Requests[M]['params']): Promise<Requests[M]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the extension did not answer "${method}"`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.transport.post({ kind: 'request', id, method, params });
    });
  }

  on<E extends keyof Pushes>(event: E, listener: (data: Pushes[E]) => void): void {
    ((this.listeners[event] ??= []) as ((d: Pushes[E]) => void)[]).push(listener);
  }

  dispose(): void {
    this.stop();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error('closed'));
    }
    this.pending.clear();
  }
}
