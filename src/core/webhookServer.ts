// The owner's HTTP listener for webhooks. It checks a delivery (path, method, size,
// secret, hook, rate) and hands the raw bytes to the engine, which stores them durably
// before the 202 goes out. It never parses or transforms the body: the tick loop decides
// what a delivery does. Every refusal is a status and a short JSON error, and stores nothing.
import * as http from 'http';
import type { AddressInfo } from 'net';
import { authenticate, DEFAULT_TOLERANCE_MS } from './webhookAuth';
import { TokenBuckets, type RateLimit } from './tokenBucket';

export interface IncomingDelivery {
  hook: string;
  externalId: string | null;
  headers: Record<string, string>;
  body: Buffer;
  source: string;
}

/** What the listener needs from the engine. */
export interface WebhookSink {
  secret(): string;
  hookIsKnown(hook: string): boolean;
  /** Stores the delivery durably (or finds the earlier one with the same sender id). */
  receive(delivery: IncomingDelivery): Promise<{ id: string; duplicate: boolean }>;
  /** Serves every request that is not a delivery (the local API), when there is one. */
  api?(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
}

export interface WebhookOptions {
  /** 127.0.0.1 unless the user chose otherwise (and was warned). */
  host?: string;
  /** 0 for an ephemeral port. */
  port?: number;
  maxBodyBytes?: number;
  rate?: RateLimit;
  toleranceMs?: number;
  /** A client must send its headers within this. */
  headersTimeoutMs?: number;
  /** ... and its whole request within this. */
  requestTimeoutMs?: number;
  /** A connection idle this long is closed. */
  idleTimeoutMs?: number;
}

export const WEBHOOK_DEFAULTS = {
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 1024 * 1024,
  rate: { perMinute: 120, burst: 30 },
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 10_000,
};

/** Headers that carry credentials are not stored with the delivery. */
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
const DELIVERY_ID_HEADERS = ['x-github-delivery', 'idempotency-key', 'x-delivery-id'];
const HOOK_PATH = /^\/hooks\/([^/?#]+)\/?$/;
const HOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A delivery refused with an HTTP status; thrown by the listener's checks or by the sink. */
export class WebhookRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export class WebhookServer {
  private server: http.Server | undefined;
  private readonly buckets: TokenBuckets;
  private readonly opts: Required<WebhookOptions>;
  url: string | undefined;

  constructor(
    private readonly sink: WebhookSink,
    options: WebhookOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.opts = { ...WEBHOOK_DEFAULTS, toleranceMs: DEFAULT_TOLERANCE_MS, ...stripUndefined(options) };
    this.buckets = new TokenBuckets(this.opts.rate);
  }

  /** Listens on the port asked for; `fallbackToEphemeral` takes any free port if that one is busy. */
  async start(port = this.opts.port, fallbackToEphemeral = false): Promise<string> {
    const server = http.createServer(
      {
        headersTimeout: this.opts.headersTimeoutMs,
        requestTimeout: this.opts.requestTimeoutMs,
        // How often Node looks for clients over those limits; by default only every 30 s.
        connectionsCheckingInterval: Math.max(50, Math.min(1000, this.opts.headersTimeoutMs / 4)),
      },
      (req, res) => void this.handle(req, res),
    );
    server.keepAliveTimeout = 5000;
    server.maxConnections = 256;
    server.on('connection', (socket) => socket.setTimeout(this.opts.idleTimeoutMs, () => socket.destroy()));
    server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    try {
      await listen(server, this.opts.host, port);
    } catch (err) {
      if (!fallbackToEphemeral || port === 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      await listen(server, this.opts.host, 0);
    }
    server.unref(); // the loop decides whether the process stays alive
    this.server = server;
    const { port: actual } = server.address() as AddressInfo;
    const host = this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
    this.url = `http://${host}:${actual}`;
    return this.url;
  }

  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.url = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.sink.api && !(req.url ?? '/').startsWith('/hooks/')) return this.sink.api(req, res);
    try {
      const reply = await this.accept(req);
      send(res, 202, { id: reply.id, hook: reply.hook }, reply.duplicate ? { 'X-Sdlc-Duplicate': 'true' } : {});
    } catch (err) {
      if (err instanceof WebhookRefusal) {
        // A refused request's unread body is not drained: close the connection instead.
        send(res, err.status, { error: err.message }, { ...err.headers, ...(req.complete ? {} : { Connection: 'close' }) });
      } else {
        send(res, 500, { error: `the delivery could not be stored: ${(err as Error).message}` }, { Connection: 'close' });
      }
    }
  }

  private async accept(req: http.IncomingMessage): Promise<{ id: string; hook: string; duplicate: boolean }> {
    const pathname = (req.url ?? '/').split('?')[0];
    const m = HOOK_PATH.exec(pathname);
    let hook = '';
    try {
      hook = m ? decodeURIComponent(m[1]) : '';
    } catch {
      // a malformed escape is just not a hook
    }
    if (!HOOK_NAME.test(hook)) throw new WebhookRefusal(404, 'not found: deliveries go to POST /hooks/<name>, and the API is described at GET /openapi.json');
    if (req.method !== 'POST') throw new WebhookRefusal(405, `method ${req.method} not allowed: deliveries are POSTed`, { Allow: 'POST' });
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.opts.maxBodyBytes) throw this.tooLarge();
    const body = await readBody(req, this.opts.maxBodyBytes, () => this.tooLarge());
    const auth = authenticate(this.sink.secret(), req.headers, body, this.now(), this.opts.toleranceMs);
    if (!auth.ok) throw new WebhookRefusal(401, auth.error, { 'WWW-Authenticate': 'Bearer realm="sdlc-orchestrator"' });
    if (!this.sink.hookIsKnown(hook)) throw new WebhookRefusal(404, `no action runs on hook "${hook}"; schedule one with a webhook trigger named "${hook}"`);
    const waitMs = this.buckets.take(hook, this.now());
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new WebhookRefusal(429, `too many deliveries to hook "${hook}"; retry in ${seconds} s`, { 'Retry-After': String(seconds) });
    }
    let externalId: string | null = null;
    for (const h of DELIVERY_ID_HEADERS) {
      const v = req.headers[h];
      if (typeof v === 'string' && v.trim()) {
        externalId = v.trim();
        break;
      }
    }
    if (externalId !== null && externalId.length > 200) throw new WebhookRefusal(400, 'the delivery id header is longer than 200 characters');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || SECRET_HEADERS.has(k)) continue;
      headers[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const stored = await this.sink.receive({ hook, externalId, headers, body, source: req.socket.remoteAddress ?? 'unknown' });
    return { ...stored, hook };
  }

  private tooLarge(): WebhookRefusal {
    return new WebhookRefusal(413, `the body is larger than the limit of ${this.opts.maxBodyBytes} bytes`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** The request's body, refused with `tooLarge()` as soon as it passes `limit` bytes. */
export function readBody(req: http.IncomingMessage, limit: number, tooLarge: () => Error): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
    req.once('aborted', () => reject(new Error('the client went away')));
  });
}

/** A JSON answer (the listener's and the API's): never cached, never sniffed as something else. */
export function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, `${JSON.stringify(body)}\n`, 'application/json; charset=utf-8', headers);
}

export function sendText(res: http.ServerResponse, status: number, text: string, type: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(text);
}
