// Who may deliver to a folder's hooks: whoever knows its secret. A sender proves it either
// with the secret as a bearer token, or with an HMAC-SHA256 of the body in the form GitHub
// sends (`X-Hub-Signature-256: sha256=<hex>`), so a GitHub webhook relayed to this machine
// works unchanged. A sender that adds `X-Sdlc-Timestamp` (unix seconds) signs
// `<timestamp>.<body>` instead, and the delivery must arrive within the tolerance: a captured
// request cannot be replayed later.
import * as crypto from 'crypto';

export const SIGNATURE_HEADER = 'x-hub-signature-256';
export const TIMESTAMP_HEADER = 'x-sdlc-timestamp';
export const DEFAULT_TOLERANCE_MS = 5 * 60_000;

export function newSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** `sha256=<hex>` of the body, or of `<timestamp>.<body>` when a timestamp is given. */
export function signBody(secret: string, body: Uint8Array, timestamp?: string): string {
  const mac = crypto.createHmac('sha256', secret);
  if (timestamp !== undefined) mac.update(`${timestamp}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/** Equal-time comparison that also hides the lengths: both sides are hashed first. */
function sameSecret(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export type AuthResult = { ok: true; method: 'bearer' | 'signature' } | { ok: false; error: string };

export function authenticate(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: Uint8Array,
  now: number,
  toleranceMs = DEFAULT_TOLERANCE_MS,
): AuthResult {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const signature = header(SIGNATURE_HEADER);
  if (signature !== undefined) {
    const timestamp = header(TIMESTAMP_HEADER);
    if (timestamp !== undefined) {
      if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, error: `${TIMESTAMP_HEADER} must be unix seconds` };
      const skew = Math.abs(now - Number(timestamp) * 1000);
      if (skew > toleranceMs) return { ok: false, error: `${TIMESTAMP_HEADER} is ${Math.round(skew / 1000)} s away from this machine's clock (tolerance ${toleranceMs / 1000} s)` };
    }
    if (!sameSecret(signature.trim(), signBody(secret, body, timestamp))) return { ok: false, error: 'the signature does not match the body' };
    return { ok: true, method: 'signature' };
  }
  const authorization = header('authorization');
  if (authorization !== undefined) {
    const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (!m || !sameSecret(m[1], secret)) return { ok: false, error: 'the bearer token is not this folder\'s webhook secret' };
    return { ok: true, method: 'bearer' };
  }
  return { ok: false, error: `authentication required: send "Authorization: Bearer <secret>" or an ${SIGNATURE_HEADER} signature` };
}
