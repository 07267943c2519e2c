// The status-bar tick indicator renders one state value through one switch.

export type StatusState =
  | { kind: 'inactive' }
  | { kind: 'untrusted' }
  | { kind: 'error'; message: string }
  | { kind: 'invalidFile'; folder: string; count: number; first: string }
  | { kind: 'paused'; queued: number }
  | { kind: 'following'; owner: string; running: number; queued: number }
  | {
      kind: 'ticking';
      tick: number;
      tickMs: number;
      lastTickMs: number;
      running: number;
      queued: number;
      nextDueAt: number | null;
      folders: number;
    };

export interface StatusView {
  text: string;
  tooltip: string;
  tone: 'normal' | 'warning' | 'error';
  /** What a click does: the panel, except where trust must come first. */
  command: string;
}

import { relativeTime } from './relativeTime';

export function renderStatus(s: StatusState, now: number): StatusView {
  const command = s.kind === 'untrusted' ? 'workbench.trust.manage' : s.kind === 'invalidFile' ? 'workbench.actions.view.problems' : 'sdlc.openPanel';
  return { command, ...statusText(s, now) };
}

function statusText(s: StatusState, now: number): Omit<StatusView, 'command'> {
  switch (s.kind) {
    case 'inactive':
      return { text: '$(circle-outline) SDLC', tooltip: 'SDLC Orchestrator is not running here yet.\nClick to open the orchestrator panel.', tone: 'normal' };
    case 'untrusted':
      return {
        text: '$(workspace-untrusted) SDLC: untrusted',
        tooltip: 'This workspace is not trusted, so nothing runs.\nClick to manage Workspace Trust: trusting the folder starts the orchestrator.',
        tone: 'warning',
      };
    case 'error':
      return { text: '$(error) SDLC: error', tooltip: `${s.message}\nClick to open the orchestrator panel; Show Log has the details.`, tone: 'error' };
    case 'invalidFile':
      return {
        text: `$(warning) SDLC: actions.yaml has ${s.count} problem${s.count === 1 ? '' : 's'}`,
        tooltip: `${s.folder}: ${s.first}\nNothing from the file is applied until it is fixed; the actions applied before keep running.\nClick to open the Problems panel.`,
        tone: 'warning',
      };
    case 'paused':
      return { text: '$(debug-pause) SDLC: paused', tooltip: `Paused: nothing starts until you resume.\n${s.queued} queued.\nClick to open the orchestrator panel (Resume is there).`, tone: 'warning' };
    case 'following':
      return {
        text: `$(eye) SDLC: following${s.running ? ` · ${s.running} running` : ''}`,
        tooltip: `Another window or process (${s.owner}) runs this folder's actions; this window shows them and sends it your changes.\n${s.queued} queued · ${s.running} running`,
        tone: 'normal',
      };
    case 'ticking': {
      // A visible pulse: the dot fills and empties on alternate ticks.
      const pulse = s.tick % 2 === 0 ? '$(circle-filled)' : '$(circle-outline)';
      const what = s.running > 0 ? `$(sync~spin) ${s.running} running` : s.nextDueAt !== null ? `next ${relativeTime(s.nextDueAt, now)}` : 'idle';
      return {
        text: `${pulse} SDLC: ${what}`,
        tooltip: [
          `SDLC Orchestrator${s.folders > 1 ? ` (${s.folders} folders)` : ''}: ticking`,
          `Tick every ${s.tickMs} ms · last tick took ${s.lastTickMs.toFixed(2)} ms · tick #${s.tick}`,
          `${s.queued} queued · ${s.running} running`,
          s.nextDueAt !== null ? `Next run ${relativeTime(s.nextDueAt, now)} (${new Date(s.nextDueAt).toLocaleTimeString()})` : 'Nothing scheduled',
          'This window owns the folder.',
          'Click to open the orchestrator panel.',
        ].join('\n'),
        tone: 'normal',
      };
    }
  }
}
