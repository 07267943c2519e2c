// Reads a git repository's own files — HEAD, loose refs, packed-refs, the HEAD reflog — so that
// git triggers work without VS Code's git extension, in linked worktrees and with a detached
// HEAD. Only small files and the reflog's tail are read, never objects.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GitEvent } from '../model';

export interface GitDirs {
  /** Per-worktree: HEAD and logs/HEAD live here. */
  gitDir: string;
  /** Shared by all worktrees: refs/ and packed-refs live here. */
  commonDir: string;
}

export interface HeadState {
  /** The current branch (short name), or null when HEAD is detached. */
  branch: string | null;
  /** The commit HEAD points at, or null in a repository with no commit yet. */
  commit: string | null;
  /** How far the HEAD reflog had been read (bytes), when remembered for a catch-up. */
  reflogAt?: number;
}

export interface GitChange {
  event: GitEvent;
  branch: string | null;
  commit: string | null;
  previous: string | null;
  /** The reflog's words for it, when there is a reflog ("commit: fix", "checkout: moving from a to b"). */
  message?: string;
}

/** The repository the folder is in: its own `.git`, or the nearest one above it. */
export function findGitDirs(folder: string): GitDirs | undefined {
  for (let dir = path.resolve(folder); ; ) {
    const dotGit = path.join(dir, '.git');
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(dotGit);
    } catch {
      stat = undefined;
    }
    if (stat?.isDirectory()) return { gitDir: dotGit, commonDir: dotGit };
    if (stat?.isFile()) {
      // A linked worktree or a submodule: ".git" is a file that says where the git dir is.
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(fs.readFileSync(dotGit, 'utf8'));
      if (m) {
        const gitDir = path.resolve(dir, m[1]);
        let commonDir = gitDir;
        try {
          commonDir = path.resolve(gitDir, fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
        } catch {
          // no commondir: a submodule, whose git dir holds everything
        }
        return { gitDir, commonDir };
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** Resolves a ref through its loose file or packed-refs, following symbolic refs a few levels. */
async function resolveRef(dirs: GitDirs, ref: string, depth = 0): Promise<string | null> {
  if (depth > 5) return null;
  const loose = (await readText(path.join(dirs.commonDir, ref)))?.trim();
  if (loose !== undefined) {
    if (SHA.test(loose)) return loose;
    const sym = /^ref:\s*(\S+)/.exec(loose);
    if (sym) return resolveRef(dirs, sym[1], depth + 1);
  }
  const packed = await readText(path.join(dirs.commonDir, 'packed-refs'));
  if (packed) {
    for (const line of packed.split('\n')) {
      if (line.endsWith(` ${ref}`) && SHA.test(line.slice(0, line.indexOf(' ')))) return line.slice(0, line.indexOf(' '));
    }
  }
  return null;
}

export async function readHead(dirs: GitDirs): Promise<HeadState | undefined> {
  const head = (await readText(path.join(dirs.gitDir, 'HEAD')))?.trim();
  if (head === undefined) return undefined;
  if (SHA.test(head)) return { branch: null, commit: head };
  const m = /^ref:\s*(\S+)/.exec(head);
  if (!m) return undefined; // being rewritten: the next event reads it again
  const ref = m[1];
  return { branch: ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : ref, commit: await resolveRef(dirs, ref) };
}

export interface ReflogEntry {
  previous: string;
  commit: string;
  message: string;
}

/**
 * The HEAD reflog's entries written after byte `offset`, and the new end. Undefined when there
 * is no reflog (core.logAllRefUpdates off) or it was rewritten shorter (expired): then only the
 * state before and after can be compared.
 */
export async function reflogSince(dirs: GitDirs, offset: number, until?: number): Promise<{ entries: ReflogEntry[]; end: number } | undefined> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(path.join(dirs.gitDir, 'logs', 'HEAD'), 'r');
    const size = Math.min((await handle.stat()).size, until ?? Number.POSITIVE_INFINITY);
    if (size < offset) return undefined;
    const from = Math.max(offset, size - 256 * 1024); // a burst bigger than this is summed up by its newest entries
    const buf = Buffer.alloc(size - from);
    await handle.read(buf, 0, buf.length, from);
    const text = buf.toString('utf8');
    const complete = text.slice(0, text.lastIndexOf('\n') + 1); // a line being written is read next time
    const entries: ReflogEntry[] = [];
    for (const line of complete.split('\n')) {
      const m = /^([0-9a-f]{40,64}) ([0-9a-f]{40,64}) [^\t]*\t(.*)$/.exec(line);
      if (m) entries.push({ previous: m[1], commit: m[2], message: m[3] });
    }
    return { entries, end: from + Buffer.byteLength(complete) };
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}

/** The size of HEAD's reflog now (where reflogSince starts reading), 0 when there is none. */
export async function reflogEnd(dirs: GitDirs): Promise<number> {
  try {
    return (await fs.promises.stat(path.join(dirs.gitDir, 'logs', 'HEAD'))).size;
  } catch {
    return 0;
  }
}

/** Whether a name is a local branch (a loose ref or a line of packed-refs). */
export async function isBranch(dirs: GitDirs, name: string): Promise<boolean> {
  return (await resolveRef(dirs, `refs/heads/${name}`)) !== null;
}

/**
 * Each event of a burst of reflog entries, in order, with the branch it happened on: a
 * checkout moves to its target (the last one to where HEAD is now), the others stay there.
 */
export async function changesOfReflog(dirs: GitDirs, entries: ReflogEntry[], before: HeadState, now: HeadState): Promise<GitChange[]> {
  const lastCheckout = entries.map((e) => eventOfReflog(e.message)).lastIndexOf('checkout');
  let branch = before.branch;
  const out: GitChange[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const event = eventOfReflog(e.message);
    if (event === 'checkout') {
      const from = branch;
      if (i === lastCheckout) branch = now.branch;
      else {
        const to = /moving from .* to (\S+)$/.exec(e.message)?.[1];
        branch = to && (await isBranch(dirs, to)) ? to : null;
      }
      if (from === branch && e.previous === e.commit) continue; // "moving from main to main"
    }
    if (event) out.push({ event, branch, commit: e.commit, previous: e.previous, message: e.message });
  }
  return out;
}

/** What a reflog message says happened, in our three words (undefined: nothing we name, e.g. a reset). */
export function eventOfReflog(message: string): GitEvent | undefined {
  if (/^checkout: /.test(message) || /^switch: /.test(message)) return 'checkout';
  if (/^merge /.test(message) || /^pull\b/.test(message) || /^commit \(merge\)/.test(message)) return 'merge';
  if (/^commit( \((initial|amend)\))?: /.test(message) || /^cherry-pick/.test(message) || /^revert/.test(message)) return 'commit';
  if (/^rebase.*\(finish\)/.test(message)) return 'commit';
  return undefined;
}

/**
 * What changed between two HEAD states, where there is no reflog to say: a different branch
 * (or a detached HEAD) is a checkout, a new commit on the same branch a commit.
 */
export function classify(before: HeadState, after: HeadState): GitChange | undefined {
  if (before.branch === after.branch && before.commit === after.commit) return undefined;
  return { event: before.branch !== after.branch ? 'checkout' : 'commit', branch: after.branch, commit: after.commit, previous: before.commit };
}
