// What "Show Delivery" shows: the delivery as stored, then its body (pretty-printed when it is
// JSON, as text when it is text, summarised when it is binary). No vscode here.
import type { Delivery, Run } from '../../core/model';

/** Text that is valid UTF-8 without control bytes other than whitespace. */
function asText(body: Buffer): string | undefined {
  const text = body.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(body)) return undefined;
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? undefined : text;
}

/** A delivery's body as a person reads it: JSON pretty-printed, text as sent, binary summarised. */
export function bodyText(body: Buffer | undefined): { kind: 'json' | 'text' | 'binary' | 'missing' | 'empty'; text: string } {
  if (!body) return { kind: 'missing', text: '(the body file is no longer stored)' };
  if (body.length === 0) return { kind: 'empty', text: '(empty)' };
  const text = asText(body);
  if (text === undefined) return { kind: 'binary', text: `(binary, ${body.length} bytes; the run reads it from $SDLC_WEBHOOK_BODY_FILE)` };
  try {
    return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
  } catch {
    return { kind: 'text', text };
  }
}

export function renderDelivery(d: Delivery, body: Buffer | undefined, runs: Run[]): string {
  const lines = [
    `Webhook delivery to hook "${d.hook}": ${d.status}`,
    `received ${new Date(d.receivedAt).toISOString()} from ${d.source} · ${d.size} bytes · sha256 ${d.sha256}`,
    d.externalId ? `sender's delivery id: ${d.externalId}` : undefined,
    d.replayOf ? `replay of delivery ${d.replayOf}` : undefined,
    d.status === 'processed'
      ? `processed ${new Date(d.processedAt ?? d.receivedAt).toISOString()}: ${d.actions.length ? `queued a run of ${d.actions.map((a) => `"${a.name}"`).join(', ')}` : 'no action was on this hook'}`
      : 'not processed yet: the next tick queues its runs',
    ...runs.map((r) => `run ${r.runId} of "${r.name}": ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`),
    `id ${d.id}`,
    '',
    '── headers ──',
    ...Object.entries(d.headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '── body ──',
  ].filter((l): l is string => l !== undefined);
  lines.push(bodyText(body).text);
  return lines.join('\n') + '\n';
}
