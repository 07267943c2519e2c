// A Server-Sent Events client over plain HTTP, as a tool following the feed would write one:
// it parses frames by the spec (id, event, data, comments) and remembers the last id.
import * as http from 'http';

export interface SseFrame {
  id?: string;
  event: string;
  data: string;
}

export class SseClient {
  readonly frames: SseFrame[] = [];
  lastId: string | undefined;
  ended = false;
  status = 0;
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  private buffer = '';
  private waiters: (() => void)[] = [];

  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}

  /** Connects, resuming after `lastEventId` when given; resolves once the response head arrives. */
  connect(lastEventId?: string): Promise<void> {
    this.ended = false;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { Authorization: `Bearer ${this.secret}`, Accept: 'text/event-stream' };
      if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
      const req = http.get(new URL('/events', this.url), { headers }, (res) => {
        this.res = res;
        this.status = res.statusCode ?? 0;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.feed(chunk));
        res.on('end', () => this.finish());
        res.on('error', () => this.finish());
        res.on('close', () => this.finish());
        resolve();
      });
      req.on('error', (err) => {
        this.finish();
        reject(err);
      });
      this.req = req;
    });
  }

  close(): void {
    this.req?.destroy();
    this.res?.destroy();
  }

  /** The lifecycle events received (unnamed frames with data), as parsed JSON. */
  events(): { seq: number; type: string }[] {
    return this.frames.filter((f) => f.event === 'message' && f.data).map((f) => JSON.parse(f.data));
  }

  async until(cond: () => boolean, timeoutMs = 10_000, what = 'frames'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.frames.length} frames, last id ${this.lastId}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  private finish(): void {
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: SseFrame = { event: 'message', data: '' };
      const data: string[] = [];
      let any = false;
      for (const line of block.split('\n')) {
        if (line.startsWith(':') || line === '') continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') {
          frame.id = value;
          this.lastId = value; // as EventSource: the last id is kept even by a frame without data
        } else if (field === 'event') frame.event = value;
        else if (field === 'data') data.push(value);
        else continue;
        any = true;
      }
      frame.data = data.join('\n');
      if (any && (frame.data !== '' || frame.event !== 'message')) this.frames.push(frame);
    }
    this.wake();
  }
}
