// What a notification says, built once when the run's end is recorded (an immutable fact,
// stored in the outbox with it), in the form its receiver accepts.
import { formatDuration } from '../duration';
import type { NotifyFormat } from './notifySpec';

export interface RunSummaryMessage {
  folder: string;
  action: { id: string; name: string };
  run: { id: string; status: 'succeeded' | 'failed' | 'cancelled'; exitCode: number | null; attempt: number; durationMs: number; reason: string | null; cause: string };
  /** The output's last lines. */
  output: string;
  endedAt: string;
  /** Opens the run in VS Code (the extension's URI handler). */
  link: string;
}

export const EXTENSION_ID = 'sdlc-orchestrator.sdlc-orchestrator';
const OUTPUT_LINES = 15;
const OUTPUT_CHARS = 1500;

export function runLink(folder: string, runId: string): string {
  return `vscode://${EXTENSION_ID}/run?${new URLSearchParams({ folder, run: runId }).toString()}`;
}

/** The last lines of an output tail, short enough for a chat message. */
export function lastLines(output: string): string {
  const lines = output.replace(/\s+$/, '').split('\n').slice(-OUTPUT_LINES).join('\n');
  return lines.length > OUTPUT_CHARS ? `…${lines.slice(-OUTPUT_CHARS)}` : lines;
}

const WORD = { succeeded: 'succeeded', failed: 'failed', cancelled: 'was cancelled' } as const;
const ICON = { succeeded: '✅', failed: '❌', cancelled: '⏹️' } as const;

function headline(m: RunSummaryMessage): string {
  const detail = [m.run.exitCode !== null ? `exit code ${m.run.exitCode}` : null, formatDuration(m.run.durationMs), m.run.attempt > 1 ? `attempt ${m.run.attempt}` : null]
    .filter(Boolean)
    .join(', ');
  return `${ICON[m.run.status]} ${m.action.name} ${WORD[m.run.status]} (${detail})`;
}

/** The request body for the receiver's form. */
export function messageBody(m: RunSummaryMessage, format: NotifyFormat): unknown {
  if (format === 'json') return { type: 'run.ended', ...m };
  const reason = m.run.reason && m.run.status !== 'succeeded' ? `\n${m.run.reason}` : '';
  const output = m.output ? `\n\`\`\`\n${m.output.replace(/```/g, "'''")}\n\`\`\`` : '';
  if (format === 'slack') {
    // Slack's mrkdwn link form; `text` alone is what every incoming webhook accepts.
    return { text: `${headline(m)}${reason}\n<${m.link}|Open run ${m.run.id.slice(0, 8)} in VS Code> · ${m.folder}${output}` };
  }
  // Discord: `content` up to 2,000 characters; links are not made clickable for vscode:// but stay copyable.
  const content = `${headline(m)}${reason}\nRun ${m.run.id} in ${m.folder}\n${m.link}${output}`;
  return { content: content.length > 2000 ? `${content.slice(0, 1996)}\n…` : content, allowed_mentions: { parse: [] } };
}
