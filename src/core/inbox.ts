// Requests from processes that do not own the folder (a second VS Code window, the CLI)
// reach the owner through a durable inbox: one file per request, written atomically, applied
// on the owner's next tick, answered with a reply file. Requests carry ids and the owner
// records applied ids in the database, so a request is never applied twice.
import * as fs from 'fs';
import * as path from 'path';
import { v4 as uuidv4 } from 'uuid';
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
  | { op: 'replayDelivery'; id: string };

export interface InboxMessage {
  id: string;
  ts: number;
  from: string;
  request: Request;
}

export type Reply = { ok: true; result: unknown } | { ok: false; error: string; field?: string };

export function postRequest(paths: SdlcPaths, from: string, request: Request, now: number): InboxMessage {
  fs.mkdirSync(paths.replies, { recursive: true });
  const msg: InboxMessage = { id: uuidv4(), ts: now, from, request };
  writeFileAtomic(path.join(paths.inbox, `${String(now).padStart(15, '0')}-${msg.id}.json`), JSON.stringify(msg));
  return msg;
}

/** The inbox's requests in arrival order. Files that do not parse are set aside, not retried forever. */
export function readInbox(paths: SdlcPaths): { file: string; msg: InboxMessage }[] {
  let names: string[];
  try {
    names = fs.readdirSync(paths.inbox);
  } catch {
    return [];
  }
  const out: { file: string; msg: InboxMessage }[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(paths.inbox, name);
    try {
      const msg = JSON.parse(fs.readFileSync(file, 'utf8')) as InboxMessage;
      if (typeof msg.id !== 'string' || !msg.request || typeof msg.request.op !== 'string') throw new Error('not a request');
      out.push({ file, msg });
    } catch {
      fs.renameSync(file, `${file}.bad`);
    }
  }
  return out;
}

export function writeReply(paths: SdlcPaths, id: string, reply: Reply): void {
  writeFileAtomic(path.join(paths.replies, `${id}.json`), JSON.stringify(reply));
}

/** Waits for the owner's reply to request `id`; undefined if none came in time. */
export async function awaitReply(paths: SdlcPaths, id: string, timeoutMs: number): Promise<Reply | undefined> {
  const file = path.join(paths.replies, `${id}.json`);
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const reply = JSON.parse(fs.readFileSync(file, 'utf8')) as Reply;
      fs.rmSync(file, { force: true });
      return reply;
    } catch {
      if (Date.now() >= until) return undefined;
      await new Promise((r) => setTimeout(r, 20));
    }
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
