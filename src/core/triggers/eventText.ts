// What started a run, in a few words for the tree, the panel and the CLI: the files, the
// commit, the task. No imports: the webview bundles it.

const short = (sha: string | undefined) => (sha ? sha.slice(0, 7) : 'no commit');

/** A run's cause and event data as a sentence; the cause itself for the ones that say enough. */
export function causeText(cause: string, data: Record<string, string> = {}): string {
  if (cause === 'change') {
    const files = (data._changed ?? '').split('\n').filter(Boolean);
    const n = Number(data.SDLC_CHANGED_COUNT ?? files.length);
    return `${n} file${n === 1 ? '' : 's'} changed${files.length ? `: ${files.slice(0, 3).join(', ')}${n > 3 ? ', …' : ''}` : ''}`;
  }
  if (cause.startsWith('git:')) {
    const event = cause.slice(4);
    const where = data.SDLC_GIT_BRANCH ? data.SDLC_GIT_BRANCH : 'a detached HEAD';
    if (data.SDLC_GIT_COMMIT === undefined) return `git ${event}`;
    if (event === 'checkout') return `switched to ${where} at ${short(data.SDLC_GIT_COMMIT)}`;
    return `${event === 'merge' ? 'merged' : 'commit'} ${short(data.SDLC_GIT_COMMIT)} on ${where}`;
  }
  if (cause.startsWith('task:')) {
    const code = data.SDLC_TASK_EXIT_CODE;
    return `task "${cause.slice(5)}" ended${code !== undefined && code !== '' ? ` with exit code ${code}` : ''}`;
  }
  if (cause === 'open') return 'the folder was opened';
  return cause;
}

/** A few words for a list row: which development event started the run (undefined for the others). */
export function shortCause(cause: string): string | undefined {
  if (cause === 'change') return 'on change';
  if (cause === 'open') return 'on open';
  if (cause.startsWith('git:')) return `on git ${cause.slice(4)}`;
  if (cause.startsWith('task:')) return `after task ${cause.slice(5)}`;
  return undefined;
}
