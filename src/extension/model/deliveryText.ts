// What "Show Delivery" shows: the delivery as stored, then its body (pretty-printed when it is
// JSON, as text when it is text, summarised when it is binary). No vscode here.
import * as l10n from '@vscode/l10n';
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
  if (!body) return { kind: 'missing', text: l10n.t('(the body file is no longer stored)') };
  if (body.length === 0) return { kind: 'empty', text: l10n.t('(empty)') };
  const text = asText(body);
  if (text === undefined) return { kind: 'binary', text: l10n.t('(binary, {0} bytes; the run reads it from $SDLC_WEBHOOK_BODY_FILE)', body.length) };
  try {
    return { kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2) };
  } catch {
    return { kind: 'text', text };
  }
}

export function renderDelivery(d: Delivery, body: Buffer | undefined, runs: Run[]): string {
  const lines = [
    l10n.t('Webhook delivery to hook "{0}": {1}', d.hook, d.status),
    l10n.t('received {0} from {1} · {2} bytes · sha256 {3}', new Date(d.receivedAt).toISOString(), d.source, d.size, d.sha256),
    d.externalId ? l10n.t("sender's delivery id: {0}", d.externalId) : undefined,
    d.replayOf ? l10n.t('replay of delivery {0}', d.replayOf) : undefined,
    d.status === 'processed'
      ? l10n.t(
          'processed {0}: {1}',
          new Date(d.processedAt ?? d.receivedAt).toISOString(),
          d.actions.length ? l10n.t('queued a run of {0}', d.actions.map((a) => `"${a.name}"`).join(', ')) : l10n.t('no action was on this hook'),
        )
      : l10n.t('not processed yet: the next tick queues its runs'),
    ...runs.map((r) => (r.exitCode !== null ? l10n.t('run {0} of "{1}": {2} (exit {3})', r.runId, r.name, r.status, r.exitCode) : l10n.t('run {0} of "{1}": {2}', r.runId, r.name, r.status))),
    `id ${d.id}`,
    '',
    l10n.t('── headers ──'),
    ...Object.entries(d.headers).map(([k, v]) => `${k}: ${v}`),
    '',
    l10n.t('── body ──'),
  ].filter((l): l is string => l !== undefined);
  lines.push(bodyText(body).text);
  return lines.join('\n') + '\n';
}
