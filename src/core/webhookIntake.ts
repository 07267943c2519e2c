// The owner's side of webhooks: serves the listener while the orchestrator owns the folder,
// keeps the folder's secret and URL in `.sdlc/webhook.json`, and stores each delivery durably
// (its body file, then its row and event in one journaled commit) before the 202 goes out.
// What a delivery does is decided later, on the tick (Transitions.processDeliveries).
import * as path from 'path';
import { randomUUID as uuidv4 } from 'crypto'; // Node's own: the uuid package took 15 ms to load
import { NotFoundError } from './errors';
import type { Logger } from './log';
import type { SdlcPaths } from './paths';
import type { Store } from './store/store';
import type { NewDelivery } from './transitions';
import { newSecret } from './webhookAuth';
import { copyBody, loadWebhookInfo, readWebhookInfo, removeBodies, sha256Hex, writeBody, writeWebhookInfo } from './webhookFiles';
import { isLoopback, WebhookRefusal, WebhookServer, type IncomingDelivery, type WebhookOptions } from './webhookServer';

/** What the intake needs from its orchestrator. */
export interface IntakeHost {
  readonly paths: SdlcPaths;
  readonly log: Logger;
  readonly label: string;
  now(): number;
  isOwner(): boolean;
  store(): Store;
  /** Records a delivery in the open transaction (Transitions.receiveDelivery). */
  record(d: NewDelivery, now: number): void;
  /** Runs `fn` and makes its writes durable now; rolls back and throws if that fails. */
  commitNow(fn: () => void): void;
  /** A delivery was stored: process it on the next tick. */
  stored(): void;
  warn(message: string): void;
  /** Serves the requests that are not deliveries (the local API), if any. */
  api?(req: import('http').IncomingMessage, res: import('http').ServerResponse): Promise<void>;
}

export type IntakeOptions = (WebhookOptions & { enabled?: boolean }) | false | undefined;

export class WebhookIntake {
  private server: WebhookServer | undefined;
  private secret = '';
  private readonly inFlight = new Map<string, Promise<{ id: string; duplicate: boolean }>>();

  constructor(
    private readonly host: IntakeHost,
    private readonly options: IntakeOptions,
  ) {}

  get url(): string | undefined {
    return this.server?.url;
  }

  /** The folder's secret while the listener runs ('' before). */
  get currentSecret(): string {
    return this.secret;
  }

  /** Deliveries being written now (the CLI's --exit-when-idle waits for them). */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** Starts the listener; a failure is a warning, never a reason not to own the folder. */
  async start(): Promise<void> {
    const w = this.options;
    const { paths } = this.host;
    if (w === false || w?.enabled === false || this.server) return;
    try {
      const loaded = loadWebhookInfo(paths, this.host.now());
      if (loaded.warning) this.host.warn(loaded.warning);
      const previous = loaded.info;
      this.secret = loaded.secret ?? newSecret();
      const bind = w?.host ?? '127.0.0.1';
      if (!isLoopback(bind)) this.host.warn(`the webhook listener binds to ${bind}, not loopback: other machines can reach it (they still need the secret)`);
      const server = new WebhookServer(
        {
          secret: () => this.secret,
          hookIsKnown: (h) => this.host.isOwner() && this.host.store().hookIsKnown(h),
          receive: (d) => this.receive(d),
          ...(this.host.api ? { api: (req: import('http').IncomingMessage, res: import('http').ServerResponse) => this.host.api!(req, res) } : {}),
        },
        { ...w, host: bind },
        () => this.host.now(),
      );
      // With no port configured, keep the one used last time when it is free, so URLs handed out stay valid.
      const url = w?.port ? await server.start(w.port) : await server.start(previous?.port ?? 0, true);
      if (!this.host.isOwner()) {
        await server.stop();
        return;
      }
      this.server = server;
      writeWebhookInfo(paths, { url, port: server.port ?? null, secret: this.secret, pid: process.pid, label: this.host.label, updatedAt: new Date(this.host.now()).toISOString() });
      this.host.log.info(`webhooks: POST ${url}/hooks/<name>${this.host.api ? `; API and change feed: ${url}/openapi.json, ${url}/events` : ''} (secret in ${path.relative(paths.workspace, paths.webhookInfo)})`);
    } catch (err) {
      this.host.warn(`webhooks are not served: ${(err as Error).message}`);
    }
  }

  /** Stops listening. `clearUrl` says so in webhook.json (a clean stop; after a lost lease the new owner writes it). */
  async stop(clearUrl: boolean): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await server.stop();
    if (!clearUrl) return;
    try {
      const info = readWebhookInfo(this.host.paths);
      if (info && info.pid === process.pid) writeWebhookInfo(this.host.paths, { ...info, url: null, pid: null, updatedAt: new Date(this.host.now()).toISOString() });
    } catch (err) {
      this.host.log.warn(`could not update ${this.host.paths.webhookInfo}: ${(err as Error).message}`);
    }
  }

  private async receive(d: IncomingDelivery): Promise<{ id: string; duplicate: boolean }> {
    if (!this.host.isOwner()) throw notOwner();
    if (d.externalId === null) return this.store(d);
    const known = this.host.store().deliveryByExternalId(d.hook, d.externalId);
    if (known) return { id: known.id, duplicate: true };
    // The same delivery twice at once (a sender's retry racing the first): one stores, both answer alike.
    const key = `${d.hook}\n${d.externalId}`;
    const inFlight = this.inFlight.get(key);
    if (inFlight) return { id: (await inFlight).id, duplicate: true };
    const storing = this.store(d);
    this.inFlight.set(key, storing);
    try {
      return await storing;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async store(d: IncomingDelivery): Promise<{ id: string; duplicate: boolean }> {
    const id = uuidv4();
    await writeBody(this.host.paths, id, d.body); // off the event loop; only then the commit
    if (!this.host.isOwner()) {
      removeBodies(this.host.paths, [id]);
      throw notOwner();
    }
    const delivery: NewDelivery = { id, hook: d.hook, externalId: d.externalId, source: d.source, headers: d.headers, size: d.body.length, sha256: sha256Hex(d.body), replayOf: null };
    try {
      this.host.commitNow(() => this.host.record(delivery, this.host.now()));
    } catch (err) {
      removeBodies(this.host.paths, [id]);
      throw err;
    }
    this.host.stored();
    return { id, duplicate: false };
  }

  /** Inside the caller's transaction: a copy of a stored delivery, as a new one. */
  replay(id: string, now: number): { id: string; hook: string } {
    const original = this.host.store().getDelivery(id);
    if (!original) throw new NotFoundError(`no webhook delivery ${id}`);
    const copy = uuidv4();
    copyBody(this.host.paths, original.id, copy);
    try {
      this.host.record({ ...original, id: copy, externalId: null, source: `replay of ${original.id}`, replayOf: original.id }, now);
    } catch (err) {
      removeBodies(this.host.paths, [copy]);
      throw err;
    }
    this.host.stored();
    return { id: copy, hook: original.hook };
  }
}

function notOwner(): Error {
  return new WebhookRefusal(503, 'this orchestrator is handing the folder over; deliver again in a moment', { 'Retry-After': '1' });
}
