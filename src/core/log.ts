// The engine logs through this small interface; the CLI prints, the extension forwards
// to its LogOutputChannel.
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

export const silentLogger: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** Writes lines at or above `level` to a stream (stderr for the CLI, so stdout stays JSON). */
export function streamLogger(stream: NodeJS.WritableStream, level: LogLevel = 'info'): Logger {
  const min = LEVELS.indexOf(level);
  const line = (lvl: LogLevel, message: string) => {
    if (LEVELS.indexOf(lvl) >= min) stream.write(`[${new Date().toISOString()}] ${lvl}: ${message}\n`);
  };
  return {
    trace: (m) => line('trace', m),
    debug: (m) => line('debug', m),
    info: (m) => line('info', m),
    warn: (m) => line('warn', m),
    error: (m, err) => line('error', err instanceof Error ? `${m}: ${err.stack ?? err.message}` : err ? `${m}: ${String(err)}` : m),
  };
}
