// The `process` runner: a shell command as a child process in its own process group, so
// cancel and timeout end the whole tree it started. Used by the CLI and the extension.
import { spawn } from 'child_process';
import { POSIX_WRAPPER, RunOutputFile, runStatusFiles } from './runStatus';

/** How often a running run's output file is looked at (a stat) to keep it under its cap. */
const OUTPUT_CHECK_MS = 2000;
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
    try {
      child = spawn(files ? '/bin/sh' : req.command, files ? ['-c', POSIX_WRAPPER, 'sdlc-run', req.command, files.exit, files.pid, files.out] : [], {
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
      if (code === 0) finish({ status: 'succeeded', exitCode: 0 });
      else if (stopReason === 'cancel') finish({ status: 'cancelled', exitCode: code, reason: 'cancelled' });
      else if (code !== null) finish({ status: 'failed', exitCode: code, reason: `exit code ${code}` });
      else finish({ status: 'failed', exitCode: null, reason: `killed by ${signal}`, interrupted: stopReason === 'shutdown' || stopReason === 'lease-lost' });
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
}
