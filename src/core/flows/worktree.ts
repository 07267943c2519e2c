// `isolation: worktree`: a step runs in a temporary `git worktree` of the commit its flow
// started from, under `.sdlc/worktrees/<run id>`, so a scheduled test run does not see
// half-edited files and parallel steps do not collide. The worktree is removed after a
// success, kept after a failure (for inspection) until retention removes its run, and
// worktrees a crash left behind are removed when an orchestrator next starts.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log';
import type { RunHandle, RunOutcome, RunRequest, Runner, StopReason } from '../runner';

const GIT_TIMEOUT_MS = 120_000;

function git(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', args, { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`git ${args[0]} ${args[1] ?? ''}: ${(stderr || err.message).trim().split('\n').slice(-2).join(' ')}`));
      else resolve(stdout.trim());
    });
  });
}

export class Worktrees {
  constructor(
    private readonly workspace: string,
    /** `.sdlc/worktrees` */
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  pathOf(runId: string): string {
    return path.join(this.dir, runId);
  }

  /** The commit HEAD points at now. */
  head(): Promise<string> {
    return git(['rev-parse', '--verify', 'HEAD^{commit}'], this.workspace);
  }

  /** Checks `commit` out, detached, in a new worktree for the run; returns where its cwd is there. */
  async create(runId: string, commit: string, cwd: string): Promise<{ root: string; cwd: string }> {
    const top = await git(['rev-parse', '--show-toplevel'], this.workspace);
    const root = this.pathOf(runId);
    await fs.promises.mkdir(this.dir, { recursive: true });
    await git(['worktree', 'add', '--detach', '--force', root, commit], this.workspace);
    // The step's folder, at the same place relative to the repository's root.
    const rel = path.relative(fs.realpathSync(top), fs.realpathSync(cwd));
    return { root, cwd: rel.startsWith('..') ? root : path.join(root, rel) };
  }

  async remove(root: string): Promise<void> {
    try {
      await git(['worktree', 'remove', '--force', '--force', root], this.workspace);
    } catch (err) {
      // Not a worktree git knows (any more): the folder goes, and git forgets what is left of it.
      this.log.debug?.(`git worktree remove ${root}: ${(err as Error).message}`);
      await fs.promises.rm(root, { recursive: true, force: true });
      await git(['worktree', 'prune'], this.workspace).catch(() => undefined);
    }
  }

  /**
   * Removes the worktrees that are not wanted any more: `keep(runId)` says which stay (a run
   * still going, a failure still in history). Returns how many went.
   */
  async cleanup(keep: (runId: string) => boolean): Promise<number> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (keep(name)) continue;
      await this.remove(path.join(this.dir, name));
      removed++;
    }
    if (removed) await git(['worktree', 'prune'], this.workspace).catch(() => undefined);
    return removed;
  }
}

/**
 * Runs a request through `inner` inside a worktree of `commitOf(request)`. The handle is
 * returned at once; a stop that comes while the worktree is being made ends the run before
 * its command starts.
 */
export function isolatedRunner(inner: Runner, worktrees: Worktrees, commitOf: (request: RunRequest) => Promise<string>): Runner {
  return {
    start(request: RunRequest, done: (outcome: RunOutcome) => void): RunHandle {
      let handle: RunHandle | undefined;
      let stopped: StopReason | undefined;
      let root: string | undefined;
      const fail = (reason: string) => done({ status: 'failed', exitCode: null, reason });
      void (async () => {
        const commit = await commitOf(request);
        const made = await worktrees.create(request.runId, commit, request.cwd);
        root = made.root;
        if (stopped) {
          await worktrees.remove(made.root);
          done({ status: stopped === 'timeout' ? 'failed' : 'cancelled', exitCode: null, reason: stopped === 'timeout' ? 'timed out' : `stopped (${stopped}) before it started` });
          return;
        }
        handle = inner.start({ ...request, cwd: made.cwd, env: { ...request.env, SDLC_WORKTREE: made.root, SDLC_COMMIT: commit } }, (outcome) => {
          // Kept after anything but a success, for a look at what the step saw.
          if (outcome.status === 'succeeded' || outcome.status === 'cancelled') {
            void worktrees.remove(made.root).finally(() => done(outcome));
          } else done({ ...outcome, worktree: made.root });
        });
        if (stopped) handle.stop(stopped);
      })().catch((err: Error) => {
        if (root) void worktrees.remove(root);
        fail(`could not make a git worktree to run in: ${err.message}`);
      });
      return {
        stop(reason: StopReason) {
          stopped = reason;
          handle?.stop(reason);
        },
        get adoptable() {
          return handle?.adoptable;
        },
      };
    },
  };
}
