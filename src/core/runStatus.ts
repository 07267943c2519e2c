// What a process run leaves behind for the next owner. The process runner starts each command
// under a tiny shell wrapper that writes its pid at the start and its exit status at the end,
// into one status file in `.sdlc/runs/`. The command runs in its own process group, so it
// outlives an orchestrator that is killed; the next owner then knows whether the run is still
// going (it adopts it and waits), finished meanwhile (its real exit code is recorded), or was
// truly cut off (only then do the action's `on-interrupted` fail/retry rules apply).
import * as fs from 'fs';
import * as path from 'path';

export interface RunStatusFiles {
  /** The status file: the shell's pid on its first line, its exit status on the second once it ended. */
  pid: string;
  /** Where earlier versions' wrappers wrote the exit status: read for the runs they started. */
  legacyExit: string;
  /** What the command printed (stdout and stderr, as they came). */
  out: string;
  /** The paths a file-change run was started for (SDLC_CHANGED_FILES), one a line. */
  changed: string;
  /** Where the run writes its outputs, key=value lines ($SDLC_OUTPUT, read when it ends). */
  output: string;
}

export function runStatusFiles(dir: string, runId: string): RunStatusFiles {
  // One join, then suffixes: asked several times a run, five joins were a quarter of what a
  // burst allocated (path.join normalizes character by character).
  const base = path.join(dir, runId);
  return {
    pid: `${base}.pid`,
    legacyExit: `${base}.exit`,
    out: `${base}.out`,
    changed: `${base}.changed`,
    output: `${base}.output`,
  };
}

/**
 * `sh -c WRAPPER sdlc-run COMMAND PID_FILE OUT_FILE`. The command runs in the wrapper's own
 * shell through `eval` (no extra process); the EXIT trap appends its status to the pid file
 * even when the command says `exit N`. Killed by a signal, the shell writes nothing: the run
 * was cut off. `echo` is a builtin and its one short write is atomic in practice; a reader also
 * requires the trailing newline. (One file for both: a file's creation is most of what the
 * wrapper costs, up to 0.2 ms of the kernel's time on a busy ext4.)
 *
 * The pid file is created with `set -C` (noclobber: O_CREAT|O_EXCL in dash and bash), and the
 * command runs only if the shell created it. An owner that killed right after spawning leaves
 * a shell that has not yet got that far; the next owner, finding no pid file, creates it first
 * (a tombstone) and so decides, atomically, that the command never runs (see inspectLeftRun).
 *
 * The command's output goes to OUT_FILE, not to a pipe to its owner: a pipe whose reader died
 * (an owner SIGKILLed, a window reloaded) kills the command with SIGPIPE at its next write,
 * and a run meant to outlive its owner would be cut off by its own `echo`. The shell creates
 * that file itself, in parallel with the others, not the spawner, whose one thread is what a
 * burst of runs waits on. When it cannot (a folder in its place), the shell exits
 * OUTPUT_UNWRITABLE without running the command (`command exec`: a failed redirection of a
 * special builtin would otherwise end the shell with its own status, 2).
 */
export const POSIX_WRAPPER =
  '__sdlc_cmd=$1; __sdlc_pid=$2; set -C; { echo $$ > "$2"; } 2>/dev/null || exit 125; set +C; command exec >>"$3" 2>&1 || exit 124; set --; ' +
  'trap \'__sdlc_status=$?; echo $__sdlc_status >> "$__sdlc_pid"; exit $__sdlc_status\' EXIT; ' +
  'eval "$__sdlc_cmd"';

/** The wrapper's exit status when it could not open the output file (and the command never ran). */
export const OUTPUT_UNWRITABLE = 124;

/**
 * Why a run's output file cannot be written, or undefined when it can. Asked when a wrapper
 * exits OUTPUT_UNWRITABLE, which a command may also exit with (`timeout` does): only a file
 * that still cannot be opened makes it the wrapper's.
 */
export function outputUnwritable(file: string): string | undefined {
  try {
    fs.closeSync(fs.openSync(file, 'a'));
    return undefined;
  } catch (err) {
    return `the run's output file cannot be written (${(err as Error).message})`;
  }
}

export type LeftRun = { kind: 'exited'; exitCode: number; output?: string } | { kind: 'alive'; pid: number } | { kind: 'gone' };

/** The last `chars` characters a run printed, or undefined when it left no output file. */
export function recordedOutput(dir: string, runId: string, chars = 8192): string | undefined {
  const file = runStatusFiles(dir, runId).out;
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined; // something else in its place (a folder): no output to show
    const size = st.size;
    // UTF-8 takes at most 4 bytes a character: enough bytes for `chars`, cut to them after decoding.
    const want = Math.min(size, chars * 4);
    const buf = Buffer.alloc(want);
    fs.readSync(fd, buf, 0, want, size - want);
    let text = buf.toString('utf8');
    if (want < size) text = text.replace(/^[\udc00-\udfff\ufffd]+/, ''); // a character cut at the start
    return text.length > chars ? text.slice(text.length - chars) : text;
  } finally {
    fs.closeSync(fd);
  }
}

/** What a status file says so far: each line counts once its newline is there. */
function readStatus(file: string): { pid?: number; exit?: number } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return {};
  }
  const m = /^(\d+)\n(?:(\d+)\n$)?/.exec(text);
  return m ? { pid: Number(m[1]), exit: m[2] === undefined ? undefined : Number(m[2]) } : {};
}

/** An exit status alone on its line, as earlier versions' wrappers wrote it. */
function readLegacyExit(file: string): number | undefined {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return /^\d+\n$/.test(text) ? Number(text) : undefined;
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

/** What a tombstone pid file holds: the run was recorded as never started (see POSIX_WRAPPER). */
const TOMBSTONE = 'cut off\n';
/** How long a tombstone outlives its run: far longer than any shell takes to run its first line. */
const TOMBSTONE_KEEP_MS = 3_600_000;

function isTombstone(file: string): boolean {
  try {
    return fs.readFileSync(file, 'utf8') === TOMBSTONE;
  } catch {
    return false;
  }
}

/** The exit status a run's wrapper recorded, if it got that far. */
export function recordedExit(dir: string, runId: string): number | undefined {
  const files = runStatusFiles(dir, runId);
  return readStatus(files.pid).exit ?? readLegacyExit(files.legacyExit);
}

/**
 * No pid file yet: either the shell was never started, or it is about to create the file. The
 * tombstone, created exclusively, settles which: if it lands, the shell will find the file there
 * and exit without running the command. If the shell was first, its pid is read once written
 * (one short write right after the create; waited for briefly, on this rare path only).
 */
function claimOrReadPid(file: string): number | undefined {
  try {
    fs.writeFileSync(file, TOMBSTONE, { flag: 'wx' });
    return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let waited = 0; waited <= 200; waited += 5) {
    const { pid } = readStatus(file);
    if (pid !== undefined) return pid;
    if (isTombstone(file)) return undefined;
    Atomics.wait(pause, 0, 0, 5);
  }
  return undefined;
}

/**
 * Keeps a running run's output file small: past `capBytes` it is emptied, its tail kept here.
 * The wrapper appends (O_APPEND), so its next write lands at the new end; only what is written
 * between the read and the emptying (microseconds) is missing from the tail. Without this a dev
 * server left running for a day would fill the disk with what was only ever wanted as a tail.
 */
export class RunOutputFile {
  private carry = '';

  constructor(
    private readonly dir: string,
    private readonly runId: string,
    private readonly chars = 8192,
    private readonly capBytes = 1024 * 1024,
  ) {}

  /** A stat, and only past the cap a read of the tail and the emptying. Called every few seconds. */
  check(): void {
    const file = runStatusFiles(this.dir, this.runId).out;
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      return;
    }
    if (size <= this.capBytes) return;
    this.carry = recordedOutput(this.dir, this.runId, this.chars) ?? this.carry;
    try {
      fs.truncateSync(file, 0);
    } catch {
      // gone meanwhile: the run ended
    }
  }

  /** The last `chars` characters: what was kept at the last emptying, then what the file holds. */
  tail(): string {
    const all = this.carry + (recordedOutput(this.dir, this.runId, this.chars) ?? '');
    return all.length > this.chars ? all.slice(all.length - this.chars) : all;
  }
}

/** What became of a run whose owner is gone. */
export function inspectLeftRun(dir: string, runId: string): LeftRun {
  const files = runStatusFiles(dir, runId);
  const exit = recordedExit(dir, runId);
  if (exit !== undefined) return { kind: 'exited', exitCode: exit, output: recordedOutput(dir, runId) };
  const written = readStatus(files.pid).pid;
  const pid = written ?? (process.platform === 'win32' ? NaN : (claimOrReadPid(files.pid) ?? NaN));
  if (process.platform !== 'win32' && Number.isInteger(pid) && pid > 1 && groupAlive(pid)) {
    // Its exit status may have landed between the two reads.
    const late = recordedExit(dir, runId);
    return late !== undefined ? { kind: 'exited', exitCode: late, output: recordedOutput(dir, runId) } : { kind: 'alive', pid };
  }
  return { kind: 'gone' };
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
    const runId = name.replace(/\.(exit|pid|out|changed|output)$/, '');
    if (runId === name || running.has(runId)) continue;
    const file = path.join(dir, name);
    // A tombstone just written by recovery must outlive the shell it stops.
    if (name.endsWith('.pid') && isTombstone(file) && !olderThan(file, TOMBSTONE_KEEP_MS)) continue;
    fs.rmSync(file, { force: true });
    n++;
  }
  return n;
}

function olderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs > ms;
  } catch {
    return true;
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

