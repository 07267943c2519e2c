// Requests from processes that do not own the folder (a second VS Code window, the CLI)
// reach the owner through a durable inbox: one file per request, written atomically, applied
// on the owner's next tick, answered with a reply file. Requests carry ids and the owner
// records each applied id with its reply in the database, in the same commit as what it did,
// so a request is never applied twice and a reply lost in a crash is sent again.
import * as fs from 'fs';
import * as path from 'path';
import { randomUUID as uuidv4 } from 'crypto'; // Node's own: the uuid package took 15 ms to load
import { writeFileAtomic } from './store/atomicFile';
import type { ActionInput } from './model';
import type { SdlcPaths } from './paths';

export type Request =
  | { op: 'add'; actions: ActionInput[] }
  | { op: 'cancel'; id: string }
  | { op: 'runNow'; id: string }
  | { op: 'delete'; id: string }
  | { op: 'pauseAction'; id: string }
  | { op: 'resumeAction'; id: string }
  | { op: 'pause' }
  | { op: 'resume' }
  | { op: 'clearHistory' }
  | { op: 'replayDelivery'; id: string }
  /** Approval keys the user approved on this machine: file actions waiting for them may run. */
  | { op: 'approve'; keys: string[] }
  | { op: 'taskEnded'; label: string; exitCode: number | null }
  | { op: 'cancelFlow'; id: string }
  | { op: 'rerunFlow'; id: string };

export interface InboxMessage {
  id: string;
  ts: number;
  from: string;
  request: Request;
}

export type Reply = { ok: true; result: unknown } | { ok: false; error: string; field?: string };

/** A request file: `<ts>-<id>.json` while it waits, `.claimed` once an owner is applying it. */
export interface Posted {
  msg: InboxMessage;
  file: string;
}

const CLAIMED = '.claimed';

export function postRequest(paths: SdlcPaths, from: string, request: Request, now: number, id: string = uuidv4()): Posted {
  fs.mkdirSync(paths.replies, { recursive: true });
  const msg: InboxMessage = { id, ts: now, from, request };
  const file = path.join(paths.inbox, `${String(now).padStart(15, '0')}-${msg.id}.json`);
  writeFileAtomic(file, JSON.stringify(msg));
  return { msg, file };
}

/**
 * The inbox's requests in arrival order, those waiting and those an owner claimed and did not
 * get to finish (it died). Files that do not parse are set aside, not retried forever.
 */
export function readInbox(paths: SdlcPaths): { file: string; msg: InboxMessage }[] {
  let names: string[];
  try {
    names = fs.readdirSync(paths.inbox);
  } catch {
    return [];
  }
  const out: { file: string; msg: InboxMessage }[] = [];
  const key = (n: string) => (n.endsWith(CLAIMED) ? n.slice(0, -CLAIMED.length) : n);
  for (const name of names.filter((n) => n.endsWith('.json') || n.endsWith(`.json${CLAIMED}`)).sort((a, b) => key(a).localeCompare(key(b)))) {
    const file = path.join(paths.inbox, name);
    try {
      const msg = JSON.parse(fs.readFileSync(file, 'utf8')) as InboxMessage;
      if (typeof msg.id !== 'string' || !msg.request || typeof msg.request.op !== 'string') throw new Error('not a request');
      out.push({ file, msg });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // withdrawn or claimed meanwhile
      try {
        fs.renameSync(file, `${file}.bad`);
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

/**
 * The owner takes a request before applying it; the asker withdraws one it gave up on. Both
 * are a rename of the same file, so exactly one of them wins: a request is either applied (and
 * its asker hears so) or withdrawn (and never applied), never both and never neither.
 */
export function claimRequest(file: string): string | undefined {
  if (file.endsWith(CLAIMED)) return file; // left by an owner that died before it finished
  try {
    fs.renameSync(file, file + CLAIMED);
    return file + CLAIMED;
  } catch {
    return undefined; // withdrawn by its asker
  }
}

export function withdrawRequest(posted: Posted): boolean {
  const aside = `${posted.file}.withdrawn`;
  try {
    fs.renameSync(posted.file, aside);
  } catch {
    return false; // an owner claimed it
  }
  fs.rmSync(aside, { force: true });
  return true;
}

export function writeReply(paths: SdlcPaths, id: string, reply: Reply): void {
  writeFileAtomic(path.join(paths.replies, `${id}.json`), JSON.stringify(reply));
}

/** The owner's reply to request `id`, if it is there (taken: read once, then removed). */
export function takeReply(paths: SdlcPaths, id: string): Reply | undefined {
  const file = path.join(paths.replies, `${id}.json`);
  try {
    const reply = JSON.parse(fs.readFileSync(file, 'utf8')) as Reply;
    fs.rmSync(file, { force: true });
    return reply;
  } catch {
    return undefined;
  }
}

/** Replies nobody collected (the asker gave up) are removed after a while. */
export function pruneReplies(paths: SdlcPaths, olderThanMs: number, now: number): void {
  let names: string[];
  try {
    names = fs.readdirSync(paths.replies);
  } catch {
    return;
  }
  for (const name of names) {
    const file = path.join(paths.replies, name);
    try {
      if (now - fs.statSync(file).mtimeMs > olderThanMs) fs.rmSync(file, { force: true });
    } catch {
      // gone already
    }
  }
}
