// The one log channel, "SDLC Orchestrator", and the engine's Logger on top of it.
import * as vscode from 'vscode';
import type { Logger } from '../core/log';

export function channelLogger(channel: vscode.LogOutputChannel, prefix = ''): Logger {
  const p = prefix ? `[${prefix}] ` : '';
  return {
    trace: (m) => channel.trace(p + m),
    debug: (m) => channel.debug(p + m),
    info: (m) => channel.info(p + m),
    warn: (m) => channel.warn(p + m),
    error: (m, err) => (err instanceof Error ? channel.error(`${p}${m}: ${err.stack ?? err.message}`) : channel.error(err ? `${p}${m}: ${String(err)}` : p + m)),
  };
}
