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

import * as l10n from '@vscode/l10n';
import { relativeTime } from './relativeTime';

export function renderStatus(s: StatusState, now: number): StatusView {
  const command = s.kind === 'untrusted' ? 'workbench.trust.manage' : s.kind === 'invalidFile' ? 'workbench.actions.view.problems' : 'sdlc.openPanel';
  return { command, ...statusText(s, now) };
}

function statusText(s: StatusState, now: number): Omit<StatusView, 'command'> {
  switch (s.kind) {
    case 'inactive':
      return { text: '$(circle-outline) SDLC', tooltip: l10n.t('SDLC Orchestrator is not running here yet.\nClick to open the orchestrator panel.'), tone: 'normal' };
    case 'untrusted':
      return {
        text: '$(workspace-untrusted) SDLC: untrusted',
        tooltip: l10n.t('This workspace is not trusted, so nothing runs.\nClick to manage Workspace Trust: trusting the folder starts the orchestrator.'),
        tone: 'warning',
      };
    case 'error':
      return { text: l10n.t('$(error) SDLC: error'), tooltip: l10n.t('{0}\nClick to open the orchestrator panel; Show Log has the details.', s.message), tone: 'error' };
    case 'invalidFile':
      return {
        text: s.count === 1 ? l10n.t('$(warning) SDLC: actions.yaml has 1 problem') : l10n.t('$(warning) SDLC: actions.yaml has {0} problems', s.count),
        tooltip: l10n.t('{0}: {1}\nNothing from the file is applied until it is fixed; the actions applied before keep running.\nClick to open the Problems panel.', s.folder, s.first),
        tone: 'warning',
      };
    case 'paused':
      return { text: l10n.t('$(debug-pause) SDLC: paused'), tooltip: l10n.t('Paused: nothing starts until you resume.\n{0} queued.\nClick to open the orchestrator panel (Resume is there).', s.queued), tone: 'warning' };
    case 'following':
      return {
        text: s.running ? l10n.t('$(eye) SDLC: following · {0} running', s.running) : l10n.t('$(eye) SDLC: following'),
        tooltip: l10n.t("Another window or process ({0}) runs this folder's actions; this window shows them and sends it your changes.\n{1} queued · {2} running", s.owner, s.queued, s.running),
        tone: 'normal',
      };
    case 'ticking': {
      // A visible pulse: the dot fills and empties on alternate ticks.
      const pulse = s.tick % 2 === 0 ? '$(circle-filled)' : '$(circle-outline)';
      const what = s.running > 0 ? l10n.t('$(sync~spin) {0} running', s.running) : s.nextDueAt !== null ? l10n.t('next {0}', relativeTime(s.nextDueAt, now)) : l10n.t('idle');
      return {
        text: `${pulse} SDLC: ${what}`,
        tooltip: [
          s.folders > 1 ? l10n.t('SDLC Orchestrator ({0} folders): ticking', s.folders) : l10n.t('SDLC Orchestrator: ticking'),
          l10n.t('Tick every {0} ms · last tick took {1} ms · tick #{2}', s.tickMs, s.lastTickMs.toFixed(2), s.tick),
          l10n.t('{0} queued · {1} running', s.queued, s.running),
          s.nextDueAt !== null ? l10n.t('Next run {0} ({1})', relativeTime(s.nextDueAt, now), new Date(s.nextDueAt).toLocaleTimeString()) : l10n.t('Nothing scheduled'),
          l10n.t('This window owns the folder.'),
          l10n.t('Click to open the orchestrator panel.'),
        ].join('\n'),
        tone: 'normal',
      };
    }
  }
}
