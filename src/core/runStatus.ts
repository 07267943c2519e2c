// What a process run leaves behind for the next owner. The process runner starts each command
// under a tiny shell wrapper that writes its pid at the start and its exit status at the end,
// into `.sdlc/runs/`. The command runs in its own process group, so it outlives an orchestrator
// that is killed; the next owner then knows whether the run is still going (it adopts it and
// waits), finished meanwhile (its real exit code is recorded), or was truly cut off (only then
// do the action's `on-interrupted` fail/retry rules apply).
import * as fs from 'fs';
import * as path from 'path';

export interface RunStatusFiles {
  exit: string;
  pid: string;
  /** The paths a file-change run was started for (SDLC_CHANGED_FILES), one a line. */
  changed: string;
}

export function runStatusFiles(dir: string, runId: string): RunStatusFiles {
  return { exit: path.join(dir, `${runId}.exit`), pid: path.join(dir, `${runId}.pid`), changed: path.join(dir, `${runId}.changed`) };
}

/**
 * `sh -c WRAPPER sdlc-run COMMAND EXIT_FILE PID_FILE`. The command runs in the wrapper's own
 * shell through `eval` (no extra process); the EXIT trap records its status even when the
 * command says `exit N`. Killed by a signal, the shell writes nothing: the run was cut off.
 * `echo` is a builtin and its one short write is atomic in practice; a reader also requires
 * the trailing newline.
 */
export const POSIX_WRAPPER =
  '__sdlc_cmd=$1; __sdlc_exit=$2; echo $$ > "$3"; set --; ' +
  'trap \'__sdlc_status=$?; echo $__sdlc_status > "$__sdlc_exit"; exit $__sdlc_status\' EXIT; ' +
  'eval "$__sdlc_cmd"';

export type LeftRun = { kind: 'exited'; exitCode: number } | { kind: 'alive'; pid: number } | { kind: 'gone' };

function readComplete(file: string): string | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return /^\d+\n$/.test(text) ? text.trim() : undefined;
  } catch {
    return undefined;
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What became of a run whose owner is gone. */
export function inspectLeftRun(dir: string, runId: string): LeftRun {
  const files = runStatusFiles(dir, runId);
  const exit = readComplete(files.exit);
  if (exit !== undefined) return { kind: 'exited', exitCode: Number(exit) };
  const pid = Number(readComplete(files.pid) ?? NaN);
  if (process.platform !== 'win32' && Number.isInteger(pid) && pid > 1 && groupAlive(pid)) {
    // Its exit file may have landed between the two reads.
    const late = readComplete(files.exit);
    return late !== undefined ? { kind: 'exited', exitCode: Number(late) } : { kind: 'alive', pid };
  }
  return { kind: 'gone' };
}

/** Removed once the run's end is committed. */
export function removeRunStatus(dir: string, runIds: Iterable<string>): void {
  for (const runId of runIds) {
    const f = runStatusFiles(dir, runId);
    // Two small unlinks, done before the caller goes on: a process that exits right after
    // (the CLI exits as soon as its command is done) must not leave them behind.
    fs.rmSync(f.exit, { force: true });
    fs.rmSync(f.pid, { force: true });
    fs.rmSync(f.changed, { force: true });
  }
}

/** Files of runs that are not running any more (a crash between commit and removal). */
export function removeStaleRunStatus(dir: string, running: ReadonlySet<string>): number {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  let n = 0;
  for (const name of names) {
    const runId = name.replace(/\.(exit|pid|changed)$/, '');
    if (runId === name || running.has(runId)) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    n++;
  }
  return n;
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

