// The change feed over Server-Sent Events (GET /events). Each lifecycle event goes out once,
// as it is committed, with `id:` = its seq; a client that reconnects with Last-Event-ID (or
// ?since=) gets what it missed from the log, then the live stream, so it misses nothing and sees
// nothing twice. A client that asks for a seq retention has pruned gets a `reset` event with the
// current state instead of a silent gap. A client that stops reading never holds the engine up:
// what waits for it is bounded, and past the bound it is sent `cutoff` (where to resume) and closed.
import type * as http from 'http';
import type { LifecycleEvent } from '../model';
import { eventJson } from './json';

/** What the stream reads: the owner's log and state. */
export interface FeedSource {
  /** The newest seq committed. */
  lastSeq(): number;
  /** The oldest seq the log still holds, or null when it holds none. */
  firstSeq(): number | null;
  eventsSince(seq: number, limit: number): LifecycleEvent[];
  /** The current state, for a client that has to start over. */
  snapshot(): Record<string, unknown>;
  /** Subscribes to events as they are committed; returns an unsubscribe. */
  onEvents(listener: (events: LifecycleEvent[]) => void): () => void;
}

export interface StreamOptions {
  /** A comment line this often keeps proxies and idle timers from closing the stream. */
  heartbeatMs?: number;
  /** Bytes that may still wait for one client when the next commit's events come; past it the client is cut off. */
  maxBufferBytes?: number;
  /** Events read from the log per step while a client catches up (between steps, the loop runs). */
  pageSize?: number;
  /** How long a cut-off client has to read what was already sent before its socket is closed. */
  cutoffGraceMs?: number;
}

export const STREAM_DEFAULTS: Required<StreamOptions> = { heartbeatMs: 15_000, maxBufferBytes: 1024 * 1024, pageSize: 500, cutoffGraceMs: 10_000 };

/** What the client is told to wait before reconnecting (EventSource's `retry:`). */
const RETRY_MS = 1000;

interface Client {
  res: http.ServerResponse;
  /** The last seq written to it. */
  sentSeq: number;
  /** Reading back through the log: live events are left to the catch-up, which reads them too. */
  catchingUp: boolean;
}

export class EventStream {
  private readonly clients = new Set<Client>();
  private readonly opts: Required<StreamOptions>;
  private unsubscribe: (() => void) | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Clients cut off for being slow, since start (tests, the bench). */
  cutOff = 0;

  constructor(
    private readonly source: FeedSource,
    options: StreamOptions = {},
  ) {
    this.opts = { ...STREAM_DEFAULTS, ...options };
  }

  get size(): number {
    return this.clients.size;
  }

  /**
   * Serves one client. `since` is the last seq it has (Last-Event-ID), or null for "from now on":
   * it is then told the current seq (an `id:` line with no data), so that a reconnect resumes there.
   */
  attach(req: http.IncomingMessage, res: http.ServerResponse, since: number | null): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    req.socket.setTimeout(0); // a stream is idle between events by design; heartbeats show it is alive
    req.socket.setNoDelay(true);
    const last = this.source.lastSeq();
    const client: Client = { res, sentSeq: last, catchingUp: false };
    this.clients.add(client);
    res.on('close', () => this.detach(client));
    res.write(`retry: ${RETRY_MS}\n`);
    const first = this.source.firstSeq();
    if (since === null) res.write(`id: ${last}\n\n`);
    else if (since > last || (first !== null && since + 1 < first)) this.reset(client, since > last ? 'the log has no such seq: it belongs to another database, or the history was cleared' : `events after ${since} were removed by retention`);
    else {
      client.sentSeq = since;
      res.write('\n');
      this.catchUp(client);
    }
    this.listen();
  }

  /** Ends every stream (the listener is stopping); clients reconnect to the next owner. */
  close(): void {
    for (const c of [...this.clients]) c.res.end();
    this.clients.clear();
    this.unlisten();
  }

  private detach(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (!this.clients.size) this.unlisten();
  }

  /** Subscribed only while somebody listens: with no client the feed costs the engine nothing. */
  private listen(): void {
    if (this.unsubscribe || !this.clients.size) return;
    this.unsubscribe = this.source.onEvents((events) => this.broadcast(events));
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) if (!c.catchingUp) c.res.write(': heartbeat\n\n');
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  private unlisten(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private reset(client: Client, reason: string): void {
    const seq = this.source.lastSeq();
    client.sentSeq = seq;
    client.res.write(`event: reset\nid: ${seq}\ndata: ${JSON.stringify({ seq, reason, state: this.source.snapshot() })}\n\n`);
  }

  private broadcast(events: LifecycleEvent[]): void {
    // Each event is turned into text once, whatever the number of clients.
    let frames: string[] | undefined;
    for (const c of [...this.clients]) {
      if (c.catchingUp) continue;
      // What is still waiting from earlier commits tells a slow client from a big commit:
      // a client that reads has taken those by the time the next commit comes.
      if (c.res.writableLength > this.opts.maxBufferBytes) {
        this.cut(c);
        continue;
      }
      frames ??= events.map(frame);
      for (let i = 0; i < events.length; i++) {
        if (events[i].seq <= c.sentSeq) continue;
        c.res.write(frames[i]);
        c.sentSeq = events[i].seq;
      }
    }
  }

  /** Pages through the log from the client's seq, yielding to the loop between pages and waiting for a slow socket. */
  private catchUp(client: Client): void {
    client.catchingUp = true;
    const step = () => {
      if (!this.clients.has(client)) return;
      const page = this.source.eventsSince(client.sentSeq, this.opts.pageSize);
      for (const e of page) {
        client.res.write(frame(e));
        client.sentSeq = e.seq;
      }
      if (page.length < this.opts.pageSize) {
        client.catchingUp = false; // everything committed is written: live events follow
        return;
      }
      if (client.res.writableLength > this.opts.maxBufferBytes) client.res.once('drain', step);
      else setImmediate(step);
    };
    setImmediate(step);
  }

  private cut(client: Client): void {
    this.cutOff++;
    this.clients.delete(client);
    if (!this.clients.size) this.unlisten();
    // Everything up to sentSeq is already queued for it, in order: that is where it resumes.
    client.res.end(`event: cutoff\ndata: ${JSON.stringify({ resumeFrom: client.sentSeq, reason: `the client read too slowly (over ${this.opts.maxBufferBytes} bytes waited for it); reconnect with Last-Event-ID: ${client.sentSeq}` })}\n\n`);
    setTimeout(() => client.res.destroy(), this.opts.cutoffGraceMs).unref();
  }
}

function frame(e: LifecycleEvent): string {
  return `id: ${e.seq}\ndata: ${JSON.stringify(eventJson(e))}\n\n`;
}
