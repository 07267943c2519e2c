// Where an action's run ends are announced: a URL (or `$NAME`, the environment variable that
// holds it, so a committed actions file never carries a chat channel's secret), when (`on`),
// and in which form the receiver accepts (plain JSON, Slack's or Discord's incoming webhook).
import { ValidationError } from '../errors';

export const NOTIFY_ON = ['failure', 'success', 'always'] as const;
export type NotifyOn = (typeof NOTIFY_ON)[number];
export const NOTIFY_FORMATS = ['json', 'slack', 'discord'] as const;
export type NotifyFormat = (typeof NOTIFY_FORMATS)[number];

export interface NotifySpec {
  /** An http(s) URL, or `$NAME` / `${NAME}`: read from the orchestrator's environment when sending. */
  url: string;
  on: NotifyOn;
  format: NotifyFormat;
}

/** What a caller writes: the URL alone, or with `on` and `format`; `off` turns a folder default off. */
export interface NotifyInput {
  notify?: string;
  notifyOn?: string;
  notifyFormat?: string;
}

const ENV_REF = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/;
export const MAX_URL = 2000;

/** The environment variable a target names, if it is one. */
export function envName(url: string): string | undefined {
  const m = ENV_REF.exec(url);
  return m && (url.startsWith('${') === url.endsWith('}')) ? m[1] : undefined;
}

/** Slack's and Discord's incoming-webhook hosts say which form they take; anything else gets JSON. */
export function inferFormat(url: string): NotifyFormat {
  if (envName(url)) return 'json';
  try {
    const u = new URL(url);
    if (u.hostname === 'hooks.slack.com') return 'slack';
    if (/(^|\.)discord(app)?\.com$/.test(u.hostname) && u.pathname.startsWith('/api/webhooks/')) return 'discord';
  } catch {
    // checked by the caller
  }
  return 'json';
}

function checkUrl(url: string, field: string): void {
  if (url.length > MAX_URL) throw new ValidationError(field, `${field} is longer than ${MAX_URL} characters`);
  if (envName(url)) return;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ValidationError(field, `${field} must be an http(s) URL or $NAME of an environment variable that holds one (got "${redactTarget(url)}")`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new ValidationError(field, `${field} must be an http or https URL (got ${u.protocol})`);
}

/**
 * The action's notification, or undefined for none. `off` (or no URL) with a folder default
 * means none; an action without notify keys takes the folder's default when it has one.
 */
export function validateNotify(input: NotifyInput): NotifySpec | undefined {
  const url = input.notify?.trim();
  if (!url) {
    if (input.notifyOn !== undefined || input.notifyFormat !== undefined) throw new ValidationError('notify', 'notify-on and notify-format need notify: the URL (or $NAME) to send to');
    return undefined;
  }
  if (url === 'off') return undefined;
  checkUrl(url, 'notify');
  const on = input.notifyOn ?? 'failure';
  if (!NOTIFY_ON.includes(on as NotifyOn)) throw new ValidationError('notify-on', `notify-on must be one of ${NOTIFY_ON.join(', ')} (got ${JSON.stringify(on)})`);
  const format = input.notifyFormat ?? inferFormat(url);
  if (!NOTIFY_FORMATS.includes(format as NotifyFormat)) throw new ValidationError('notify-format', `notify-format must be one of ${NOTIFY_FORMATS.join(', ')} (got ${JSON.stringify(format)})`);
  return { url, on: on as NotifyOn, format: format as NotifyFormat };
}

/**
 * How a target is shown in the log, the events and the UI. Webhook URLs carry their secret in
 * the path or the query (Slack's `/services/T…/B…/x…`, Discord's `/api/webhooks/id/token`), so
 * only the scheme and host are shown; an environment reference is no secret and shows as written.
 */
export function redactTarget(url: string): string {
  if (envName(url)) return url;
  try {
    const u = new URL(url);
    const hidden = u.pathname.length > 1 || u.search !== '' || u.username !== '' || u.password !== '';
    return `${u.protocol}//${u.host}${hidden ? '/…' : '/'}`;
  } catch {
    return '(not a URL)';
  }
}

/** The URL to POST to now: an environment reference is read from `env`; undefined when unset. */
export function resolveTarget(url: string, env: Record<string, string | undefined>): { url: string } | { error: string } {
  const name = envName(url);
  if (!name) return { url };
  const value = env[name]?.trim();
  if (!value) return { error: `the environment variable ${name} is not set where the orchestrator runs` };
  try {
    checkUrl(value, name);
  } catch (err) {
    return { error: (err as Error).message };
  }
  return { url: value };
}

/** Whether a run that ended this way is announced. Only final ends are: a failed attempt that will be retried is not. */
export function shouldNotify(on: NotifyOn, status: 'succeeded' | 'failed' | 'cancelled'): boolean {
  if (on === 'always') return true;
  return on === 'failure' ? status === 'failed' : status === 'succeeded';
}
