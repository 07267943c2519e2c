// The `process` runner: a shell command as a child process in its own process group, so
// cancel and timeout end the whole tree it started. Used by the CLI and the extension.
import { spawn } from 'child_process';
import { OUTPUT_UNWRITABLE, outputUnwritable, POSIX_WRAPPER, recordedExit, RunOutputFile, runStatusFiles, type RunStatusFiles } from './runStatus';
import { spawner } from './spawner/spawner';

/** How often a running run's output file is looked at (a stat) to keep it under its cap. */
const OUTPUT_CHECK_MS = 2000;
/** How often a run whose spawner process died is looked at (is its pid still there?). */
const LOST_POLL_MS = 250;
import { OutputTail, type RunHandle, type RunOutcome, type RunRequest, type Runner, type StopReason } from './runner';

export interface ProcessRunnerOptions {
  /** How long a stopped tree gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  tailChars?: number;
  /** A run's output file is emptied (its tail kept) once it passes this; default 1 MiB. */
  outputCapBytes?: number;
}

function killTree(pid: number, signal: NodeJS.Signals): void {
  if (process.platform === 'win32') {
    spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => {});
    return;
  }
  try {
    process.kill(-pid, signal); // the whole process group
  } catch {
    // already gone
  }
}

export class ProcessRunner implements Runner {
  constructor(private readonly opts: ProcessRunnerOptions = {}) {}

  start(req: RunRequest, done: (outcome: RunOutcome) => void): RunHandle {
    const tail = new OutputTail(this.opts.tailChars ?? 8192);
    let settled = false;
    const finish = (outcome: RunOutcome) => {
      if (settled) return;
      settled = true;
      done({ ...outcome, outputTail: tail.toString() });
    };
    let child: ReturnType<typeof spawn>;
    // Under the wrapper the run leaves its pid and exit status for an owner that restarts.
    const files = req.statusDir && process.platform !== 'win32' ? runStatusFiles(req.statusDir, req.runId) : undefined;
    if (files) {
      const handle = this.startFromSpawner(req, files, tail, finish);
      if (handle) return handle;
    }
    try {
      child = spawn(files ? '/bin/sh' : req.command, files ? wrapperArgs(req.command, files) : [], {
        shell: !files,
        cwd: req.cwd,
        env: { ...process.env, ...req.env },
        detached: process.platform !== 'win32',
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (err) {
      finish({ status: 'failed', exitCode: null, reason: `could not start: ${(err as Error).message}` });
      return { stop() {} };
    }
    child.stdout?.setEncoding('utf8').on('data', (d: string) => tail.push(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => tail.push(d));
    let stopReason: StopReason | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    child.on('error', (err) => finish({ status: 'failed', exitCode: null, reason: `could not start: ${err.message}` }));
    // Under the wrapper the output goes to its file (the pipes carry only the shell's own complaints).
    const output = files && new RunOutputFile(req.statusDir!, req.runId, this.opts.tailChars ?? 8192, this.opts.outputCapBytes);
    const capTimer = output && setInterval(() => output.check(), OUTPUT_CHECK_MS);
    capTimer?.unref();
    child.on('close', (code, signal) => {
      if (killTimer) clearTimeout(killTimer);
      clearInterval(capTimer);
      const written = output?.tail();
      if (written) tail.push(written);
      finish(outcomeOf(code, signal, stopReason, files));
    });
    return {
      adoptable: files !== undefined,
      stop: (reason) => {
        if (settled || child.pid === undefined || stopReason) return;
        stopReason = reason;
        const pid = child.pid;
        killTree(pid, 'SIGTERM');
        killTimer = setTimeout(() => killTree(pid, 'SIGKILL'), this.opts.killGraceMs ?? 2000);
        killTimer.unref();
      },
    };
  }

  /** The same run, its shell started by the spawner process (see spawner/spawnerProcess.ts); undefined when there is none. */
  private startFromSpawner(req: RunRequest, files: RunStatusFiles, tail: OutputTail, finish: (outcome: RunOutcome) => void): RunHandle | undefined {
    const output = new RunOutputFile(req.statusDir!, req.runId, this.opts.tailChars ?? 8192, this.opts.outputCapBytes);
    let pid: number | undefined;
    let stopReason: StopReason | undefined;
    let stopPending = false;
    let over = false; // a stop after the end must never signal a pid group that may be reused
    const timers: NodeJS.Timeout[] = [];
    const capTimer = setInterval(() => output.check(), OUTPUT_CHECK_MS);
    capTimer.unref();
    timers.push(capTimer);
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      over = true;
      for (const t of timers) clearInterval(t);
      const written = output.tail();
      if (written) tail.push(written);
      finish(outcomeOf(code, signal, stopReason, files));
    };
    const kill = () => {
      killTree(pid!, 'SIGTERM');
      const t = setTimeout(() => killTree(pid!, 'SIGKILL'), this.opts.killGraceMs ?? 2000);
      t.unref();
      timers.push(t);
    };
    const started = spawner.spawn(
      { file: '/bin/sh', args: wrapperArgs(req.command, files), cwd: req.cwd, env: req.env },
      {
        spawned: (p) => {
          pid = p;
          if (stopPending && !over) kill();
        },
        exit: ended,
        error: (message) => {
          over = true;
          for (const t of timers) clearInterval(t);
          finish({ status: 'failed', exitCode: null, reason: `could not start: ${message}` });
        },
        lost: () => {
          if (pid === undefined) {
            over = true;
            for (const t of timers) clearInterval(t);
            return finish({ status: 'failed', exitCode: null, reason: 'could not start: the process spawner exited' });
          }
          // The shell goes on without its parent: its end is its pid gone and its exit status written.
          const poll = setInterval(() => {
            try {
              process.kill(pid!, 0);
            } catch {
              const exit = recordedExit(req.statusDir!, req.runId);
              ended(exit ?? null, exit === undefined ? 'SIGKILL' : null);
            }
          }, LOST_POLL_MS);
          timers.push(poll);
        },
      },
    );
    if (!started) {
      clearInterval(capTimer);
      return undefined;
    }
    return {
      adoptable: true,
      stop: (reason) => {
        if (over || stopReason) return;
        stopReason = reason;
        if (pid === undefined) stopPending = true;
        else kill();
      },
    };
  }
}

/** `/bin/sh`'s arguments for running `command` under the wrapper that leaves its pid and exit status. */
function wrapperArgs(command: string, files: RunStatusFiles): string[] {
  return ['-c', POSIX_WRAPPER, 'sdlc-run', command, files.pid, files.out];
}

function outcomeOf(code: number | null, signal: NodeJS.Signals | null, stopReason: StopReason | undefined, files: RunStatusFiles | undefined): RunOutcome {
  const unwritable = files && code === OUTPUT_UNWRITABLE ? outputUnwritable(files.out) : undefined;
  if (unwritable) return { status: 'failed', exitCode: code, reason: `could not start: ${unwritable}` };
  if (code === 0) return { status: 'succeeded', exitCode: 0 };
  if (stopReason === 'cancel') return { status: 'cancelled', exitCode: code, reason: 'cancelled' };
  if (code !== null) return { status: 'failed', exitCode: code, reason: `exit code ${code}` };
  return { status: 'failed', exitCode: null, reason: `killed by ${signal}`, interrupted: stopReason === 'shutdown' || stopReason === 'lease-lost' };
}
