// What the engine and its spawner process (spawnerProcess.ts) say to each other. Each message
// is an array: what one side has to say in one turn of its event loop goes in one write (in a
// burst, one message a run each way was a fifth of the spawner's time).
// Stopping a run needs no message: the engine signals the run's process group itself.
export type SpawnerRequest = { t: 'spawn'; id: number; file: string; args: string[]; cwd?: string; env: Record<string, string> };

export type SpawnerReply =
  | { t: 'spawned'; id: number; pid: number }
  | { t: 'exit'; id: number; code: number | null; signal: NodeJS.Signals | null }
  | { t: 'error'; id: number; message: string };
