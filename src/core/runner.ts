// The tick loop does not know what actions do: it hands each claimed run to the runner
// named in its spec. Runners (process, task, terminal, …) plug in behind this interface.

export interface RunRequest {
  runId: string;
  actionId: string;
  name: string;
  attempt: number;
  command: string;
  /** A tasks.json task's label, for runners that know tasks. */
  task?: string;
  /** Absolute working folder. */
  cwd: string;
  /** The action's own environment plus SDLC_* variables describing the run. */
  env: Record<string, string>;
  workspace: string;
  /** Where a runner whose runs can outlive the orchestrator leaves their pid and exit status (runStatus.ts). */
  statusDir?: string;
}

export interface RunOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  /** null when the runner cannot know it (a terminal without shell integration, a kill). */
  exitCode: number | null;
  reason?: string;
  outputTail?: string;
  /** The run was cut off by a restart or shutdown, not by its own failure. */
  interrupted?: boolean;
  /** The git worktree it ran in, kept for inspection (it did not succeed). */
  worktree?: string;
}

export type StopReason = 'cancel' | 'timeout' | 'shutdown' | 'lease-lost';

export interface RunHandle {
  /** Ends the run (and everything it started). Its outcome is recorded by the engine. */
  stop(reason: StopReason): void;
  /**
   * The run goes on without this process and leaves its pid and exit status for the next owner
   * (runStatus.ts): an owner that loses the folder leaves it running for the new owner to adopt.
   */
  adoptable?: boolean;
}

export interface Runner {
  /** Starts the run; calls `done` exactly once, possibly before returning. */
  start(request: RunRequest, done: (outcome: RunOutcome) => void): RunHandle;
}

/** Keeps the last `limit` characters of a stream of output. */
export class OutputTail {
  private chunks: string[] = [];
  private length = 0;

  constructor(private readonly limit = 8192) {}

  push(text: string): void {
    this.chunks.push(text);
    this.length += text.length;
    while (this.length - this.chunks[0].length >= this.limit) this.length -= this.chunks.shift()!.length;
  }

  toString(): string {
    const all = this.chunks.join('');
    return all.length > this.limit ? all.slice(all.length - this.limit) : all;
  }
}
