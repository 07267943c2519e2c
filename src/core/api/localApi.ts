// The local API on the owner's loopback listener, next to the webhooks: the change feed
// (GET /events) and JSON endpoints to read and drive the folder's actions and runs. Every
// request carries the folder's secret as a bearer token; bodies are capped; there is no CORS
// (no browser page can read an answer or send the token); errors are JSON that say what to fix.
// Changes go through the orchestrator's request path, with the same validation as the CLI's `add`.
import * as fs from 'fs';
import * as path from 'path';
import type * as http from 'http';
import { NotFoundError, ValidationError } from '../errors';
import { RUN_STATES, type Action, type ActionInput, type Flow, type Notification, type RunSummary } from '../model';
import type { RunRow } from '../store/store';
import { authenticate } from '../webhookAuth';
import { readBody, send, sendText } from '../webhookServer';
import { EventStream, type FeedSource, type StreamOptions } from './eventStream';
import { actionJson, flowJson, notificationJson, runJson, runSummaryJson } from './json';

/** What the API reads and asks of the orchestrator that owns the folder. */
export interface ApiHost extends FeedSource {
  secret(): string;
  /** Whether this orchestrator owns the folder now (it answers only while it does). */
  serving(): boolean;
  listActions(): Action[];
  getAction(idOrName: string): Action | undefined;
  getRun(runId: string): RunRow | undefined;
  runsPage(filter: { status?: string; actionId?: string; before?: number; limit: number }): RunSummary[];
  notifications(filter: { actionId?: string; limit: number }): Notification[];
  flows(filter: { before?: number; limit: number }): Flow[];
  /** A flow run with its steps, by id or the id's start. */
  getFlow(id: string): Flow | undefined;
  flowAct(op: 'cancelFlow' | 'rerunFlow', id: string): Promise<Flow>;
  add(input: ActionInput): Promise<{ actions: Action[]; created: boolean[] }>;
  act(op: 'runNow' | 'cancel' | 'pauseAction' | 'resumeAction' | 'delete', id: string): Promise<unknown>;
}

export interface ApiOptions {
  maxBodyBytes?: number;
  stream?: StreamOptions;
}

/** A refusal: the status and a message that says what to do. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const MAX_LIMIT = 1000;
const ACTION_OPS = { run: 'runNow', cancel: 'cancel', pause: 'pauseAction', resume: 'resumeAction' } as const;

let openapiText: string | undefined;
/** The OpenAPI document, shipped as a file beside the code (schemas/openapi.json). */
export function openapiDocument(): string {
  if (openapiText !== undefined) return openapiText;
  for (const dir of [path.join(__dirname, '..', '..', '..', 'schemas'), path.join(__dirname, '..', '..', '..', '..', 'schemas'), path.join(__dirname, '..', 'schemas')]) {
    try {
      return (openapiText = fs.readFileSync(path.join(dir, 'openapi.json'), 'utf8'));
    } catch {
      // the next place it may be: out/src/core/api (the CLI), dist (the extension bundle)
    }
  }
  throw new Error('schemas/openapi.json is missing from this installation');
}

export class LocalApi {
  readonly stream: EventStream;
  private readonly maxBodyBytes: number;

  constructor(
    private readonly host: ApiHost,
    options: ApiOptions = {},
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * 1024;
    this.stream = new EventStream(host, options.stream);
  }

  close(): void {
    this.stream.close();
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      await this.route(req, res);
    } catch (err) {
      const e =
        err instanceof ApiError ? err
        : err instanceof ValidationError ? new ApiError(422, err.message, err.field)
        : err instanceof NotFoundError ? new ApiError(404, err.message)
        : new ApiError(500, (err as Error).message);
      send(res, e.status, { error: e.message, ...(e.field ? { field: e.field } : {}) }, { ...e.headers, ...(req.complete ? {} : { Connection: 'close' }) });
    }
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const auth = authenticate(this.host.secret(), { authorization: req.headers.authorization }, new Uint8Array(), Date.now());
    if (!auth.ok) {
      const why = req.headers.authorization ? auth.error : 'authentication required';
      throw new ApiError(401, `${why}: send "Authorization: Bearer <secret>" with the folder's secret (in .sdlc/webhook.json)`, undefined, { 'WWW-Authenticate': 'Bearer realm="sdlc-orchestrator"' });
    }
    if (!this.host.serving()) throw new ApiError(503, 'this orchestrator is handing the folder over; try again in a moment (the new owner\'s URL is in .sdlc/webhook.json)', undefined, { 'Retry-After': '1' });
    const parts = url.pathname.split('/').filter(Boolean).map(safeDecode);
    const allow = (methods: string[]) => {
      if (!methods.includes(method)) throw new ApiError(405, `${method} is not allowed on ${url.pathname}; use ${methods.join(' or ')}`, undefined, { Allow: methods.join(', ') });
    };
    const [head, id, sub, extra] = parts;
    if (head === 'openapi.json' && parts.length === 1) {
      allow(['GET']);
      return sendText(res, 200, openapiDocument(), 'application/json; charset=utf-8');
    }
    if (head === 'events' && parts.length === 1) {
      allow(['GET']);
      return this.stream.attach(req, res, sinceOf(req, url));
    }
    if (head === 'actions' && parts.length === 1) {
      allow(['GET', 'POST']);
      if (method === 'GET') return send(res, 200, { actions: this.host.listActions().map(actionJson) });
      const body = await this.readJson(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ApiError(422, 'the body must be one action: {"name": …, "trigger": {"kind": …}, "run": {"command": …}}', 'body');
      const result = await this.host.add(body as ActionInput);
      return send(res, result.created[0] ? 201 : 200, { ...actionJson(result.actions[0]), created: result.created[0] });
    }
    if (head === 'actions' && id !== undefined && parts.length === 2) {
      allow(['GET', 'DELETE']);
      const action = this.mustFindAction(id);
      if (method === 'DELETE') {
        await this.host.act('delete', action.id);
        return send(res, 200, { deleted: action.id });
      }
      return send(res, 200, { ...actionJson(action), runs: this.host.runsPage({ actionId: action.id, limit: 10 }).map(runSummaryJson) });
    }
    if (head === 'actions' && id !== undefined && sub !== undefined && extra === undefined && Object.hasOwn(ACTION_OPS, sub)) {
      allow(['POST']);
      const action = this.mustFindAction(id);
      const result = (await this.host.act(ACTION_OPS[sub as keyof typeof ACTION_OPS], action.id)) as Action;
      return send(res, 200, actionJson(result));
    }
    if (head === 'runs' && parts.length === 1) {
      allow(['GET']);
      const status = url.searchParams.get('status') || undefined;
      if (status !== undefined && !RUN_STATES.includes(status as never)) throw new ApiError(422, `status must be one of ${RUN_STATES.join(', ')} (got "${status}")`, 'status');
      const actionRef = url.searchParams.get('action') || undefined;
      const actionId = actionRef !== undefined ? this.mustFindAction(actionRef).id : undefined;
      const before = timeParam(url.searchParams.get('before'), 'before');
      const limit = intParam(url.searchParams.get('limit'), 'limit', 1, MAX_LIMIT) ?? 100;
      const runs = this.host.runsPage({ status, actionId, before, limit });
      const next = runs.length === limit ? new Date(runs[runs.length - 1].startedAt).toISOString() : null;
      return send(res, 200, { runs: runs.map(runSummaryJson), next });
    }
    if (head === 'runs' && id !== undefined && parts.length === 2) {
      allow(['GET']);
      const run = this.host.getRun(id);
      if (!run) throw new ApiError(404, `no run ${id}; list runs with GET /runs`);
      return send(res, 200, runJson(run));
    }
    if (head === 'notifications' && parts.length === 1) {
      allow(['GET']);
      const actionRef = url.searchParams.get('action') || undefined;
      const actionId = actionRef !== undefined ? this.mustFindAction(actionRef).id : undefined;
      const limit = intParam(url.searchParams.get('limit'), 'limit', 1, MAX_LIMIT) ?? 100;
      return send(res, 200, { notifications: this.host.notifications({ actionId, limit }).map(notificationJson) });
    }
    if (head === 'flows' && parts.length === 1) {
      allow(['GET']);
      const before = timeParam(url.searchParams.get('before'), 'before');
      const limit = intParam(url.searchParams.get('limit'), 'limit', 1, MAX_LIMIT) ?? 100;
      const flows = this.host.flows({ before, limit });
      const next = flows.length === limit ? new Date(flows[flows.length - 1].startedAt).toISOString() : null;
      return send(res, 200, { flows: flows.map((f) => flowJson(f)), next });
    }
    if (head === 'flows' && id !== undefined && parts.length === 2) {
      allow(['GET']);
      const flow = this.host.getFlow(id);
      if (!flow) throw new ApiError(404, `no flow run ${id}; list them with GET /flows`);
      return send(res, 200, flowJson(flow));
    }
    if (head === 'flows' && id !== undefined && (sub === 'cancel' || sub === 'rerun') && extra === undefined) {
      allow(['POST']);
      if (!this.host.getFlow(id)) throw new ApiError(404, `no flow run ${id}; list them with GET /flows`);
      return send(res, 200, flowJson(await this.host.flowAct(sub === 'cancel' ? 'cancelFlow' : 'rerunFlow', id)));
    }
    throw new ApiError(404, `nothing at ${url.pathname}: deliveries go to POST /hooks/<name>, and the API is described at GET /openapi.json`);
  }

  private mustFindAction(idOrName: string): Action {
    const a = this.host.getAction(idOrName);
    if (!a) throw new ApiError(404, `no action "${idOrName}"; list them with GET /actions`);
    return a;
  }

  private async readJson(req: http.IncomingMessage): Promise<unknown> {
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(type)) throw new ApiError(415, 'send the body as JSON with "Content-Type: application/json"');
    if (Number(req.headers['content-length'] ?? 0) > this.maxBodyBytes) throw this.tooLarge();
    const text = (await readBody(req, this.maxBodyBytes, () => this.tooLarge())).toString('utf8');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ApiError(400, `the body is not JSON: ${(err as Error).message}`, 'body');
    }
  }

  private tooLarge(): ApiError {
    return new ApiError(413, `the body is larger than the limit of ${this.maxBodyBytes} bytes`);
  }
}

/** Last-Event-ID (what EventSource sends on reconnect) or ?since=; null: from now on. */
function sinceOf(req: http.IncomingMessage, url: URL): number | null {
  const raw = req.headers['last-event-id'] ?? url.searchParams.get('since');
  if (raw === undefined || raw === null || raw === '') return null;
  const text = Array.isArray(raw) ? raw[0] : raw;
  if (!/^\d{1,15}$/.test(text.trim())) throw new ApiError(422, `Last-Event-ID (or since) must be an event seq, a whole number (got "${text}")`, 'since');
  return Number(text);
}

function intParam(raw: string | null, field: string, min: number, max: number): number | undefined {
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ApiError(422, `${field} must be a whole number from ${min} to ${max} (got "${raw}")`, field);
  return n;
}

function timeParam(raw: string | null, field: string): number | undefined {
  if (raw === null || raw === '') return undefined;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(n)) throw new ApiError(422, `${field} must be an ISO 8601 time or milliseconds since 1970 (got "${raw}")`, field);
  return n;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
