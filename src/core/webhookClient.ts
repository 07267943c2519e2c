// Posts a delivery to a folder's webhook listener, signed with the folder's secret and a
// timestamp (so a captured request cannot be replayed later). Used by the CLI's `hook`.
import * as http from 'http';
import { signBody, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhookAuth';

export interface PostResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface PostOptions {
  secret?: string;
  /** Sent as Idempotency-Key: a second post with the same id is not run again. */
  deliveryId?: string;
  contentType?: string;
  headers?: Record<string, string>;
  now?: number;
  timeoutMs?: number;
}

export function postDelivery(baseUrl: string, hook: string, body: Uint8Array, opts: PostOptions = {}): Promise<PostResult> {
  const headers: Record<string, string> = {
    'Content-Type': opts.contentType ?? 'application/octet-stream',
    'Content-Length': String(body.length),
    'User-Agent': 'sdlc-orchestrator',
    ...opts.headers,
  };
  if (opts.secret !== undefined) {
    const ts = String(Math.floor((opts.now ?? Date.now()) / 1000));
    headers[TIMESTAMP_HEADER] = ts;
    headers[SIGNATURE_HEADER] = signBody(opts.secret, body, ts);
  }
  if (opts.deliveryId) headers['Idempotency-Key'] = opts.deliveryId;
  const url = new URL(`/hooks/${encodeURIComponent(hook)}`, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, timeout: opts.timeoutMs ?? 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${opts.timeoutMs ?? 10_000} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
