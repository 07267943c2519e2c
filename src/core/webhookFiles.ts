// The files webhooks keep in `.sdlc/`: each delivery's raw body (written and fsynced before
// the delivery's row commits, so a stored delivery always has its bytes), and `webhook.json`,
// the listener's URL and the folder's secret, readable only by the user who owns the folder's
// orchestrator, for scripts and the CLI's `hook` command.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { fsyncDir, writeFileAtomic } from './store/atomicFile';
import type { SdlcPaths } from './paths';

export function bodyFile(paths: SdlcPaths, deliveryId: string): string {
  return path.join(paths.webhooks, `${deliveryId}.body`);
}

export function sha256Hex(data: Uint8Array): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Writes a delivery's body durably without blocking the event loop on the disk. */
export async function writeBody(paths: SdlcPaths, deliveryId: string, body: Uint8Array): Promise<void> {
  await fs.promises.mkdir(paths.webhooks, { recursive: true });
  const fh = await fs.promises.open(bodyFile(paths, deliveryId), 'wx', 0o600);
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  if (process.platform !== 'win32') {
    const dir = await fs.promises.open(paths.webhooks, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

/** A replayed delivery gets its own copy of the body: pruning the original must not take it away. */
export function copyBody(paths: SdlcPaths, fromId: string, toId: string): void {
  const from = bodyFile(paths, fromId);
  if (!fs.existsSync(from)) throw new Error(`the body of delivery ${fromId} is no longer stored`);
  const to = bodyFile(paths, toId);
  fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
  const fd = fs.openSync(to, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fsyncDir(paths.webhooks);
}

export function removeBodies(paths: SdlcPaths, deliveryIds: string[]): void {
  for (const id of deliveryIds) fs.rmSync(bodyFile(paths, id), { force: true });
}

/**
 * Body files with no delivery row: written by an owner that died before its commit (so never
 * acknowledged). Removed when an owner starts, before it takes deliveries.
 */
export function removeOrphanBodies(paths: SdlcPaths, known: Set<string>): number {
  let names: string[];
  try {
    names = fs.readdirSync(paths.webhooks);
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    if (!name.endsWith('.body') || known.has(name.slice(0, -'.body'.length))) continue;
    fs.rmSync(path.join(paths.webhooks, name), { force: true });
    n++;
  }
  return n;
}

export function readBody(paths: SdlcPaths, deliveryId: string): Buffer | undefined {
  try {
    return fs.readFileSync(bodyFile(paths, deliveryId));
  } catch {
    return undefined;
  }
}

export interface WebhookInfo {
  /** Where the owner listens; null while no orchestrator serves this folder. */
  url: string | null;
  /** The port last served, tried first on the next start so URLs handed out stay valid. */
  port: number | null;
  secret: string;
  pid: number | null;
  label: string | null;
  updatedAt: string;
}

export function readWebhookInfo(paths: SdlcPaths): WebhookInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(paths.webhookInfo, 'utf8')) as WebhookInfo;
    return typeof info.secret === 'string' && info.secret.length >= 16 ? info : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The folder's webhook settings as the listener starts. A file that exists but cannot be read
 * is never silently replaced (every configured sender would start getting 401): it is moved
 * aside, and its secret is kept when the damaged text still holds one.
 */
export function loadWebhookInfo(paths: SdlcPaths, now: number): { info?: WebhookInfo; secret?: string; warning?: string } {
  let text: string;
  try {
    text = fs.readFileSync(paths.webhookInfo, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    text = '';
  }
  const info = readWebhookInfo(paths);
  if (info) return { info, secret: info.secret };
  const aside = `${paths.webhookInfo}.damaged-${new Date(now).toISOString().replace(/[:.]/g, '-')}`;
  try {
    fs.renameSync(paths.webhookInfo, aside);
  } catch {
    // a folder or unreadable: leave it; writing the new file will say what is wrong
  }
  const found = /"secret"\s*:\s*"([A-Za-z0-9_\-+/=]{16,})"/.exec(text)?.[1];
  const where = path.relative(paths.workspace, aside);
  return found
    ? { secret: found, warning: `${path.relative(paths.workspace, paths.webhookInfo)} was damaged; it was moved to ${where} and rewritten with the same secret, so senders keep working.` }
    : {
        warning:
          `${path.relative(paths.workspace, paths.webhookInfo)} was damaged and held no readable secret; it was moved to ${where} and a new secret was made. ` +
          'Give senders the new secret (Copy Webhook URL, or the file), or put the old one back in the file and restart.',
      };
}

export function writeWebhookInfo(paths: SdlcPaths, info: WebhookInfo): void {
  writeFileAtomic(paths.webhookInfo, JSON.stringify(info, null, 2) + '\n', 0o600);
  if (process.platform !== 'win32') fs.chmodSync(paths.webhookInfo, 0o600); // whatever the umask
}
