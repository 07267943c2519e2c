// What the engine and its spawner process (spawnerProcess.ts) say to each other.
// Stopping a run needs no message: the engine signals the run's process group itself.
/** `output`: the run's output file, the shell's stdout and stderr from the start (no pipes). */
export type SpawnerRequest = { t: 'spawn'; id: number; file: string; args: string[]; cwd?: string; env: Record<string, string>; output: string };

export type SpawnerReply =
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: 'error'; id: number; message: string };
