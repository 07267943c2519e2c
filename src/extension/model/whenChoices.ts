// When an action runs, in the user's words: the choices Schedule Action offers at its "When?"
// step and the panel's Add form offers in its dropdown. No imports, so the webview bundles it
// without the engine.

export interface Choice<T> {
  value: T;
  label: string;
  description?: string;
  detail?: string;
  /** A heading shown above the first choice of each group (the wizard's separators). */
  group?: string;
}

export type WhenKind = 'in' | 'at' | 'cron' | 'every' | 'webhook' | 'after' | 'manual' | 'change' | 'git' | 'afterTask' | 'open';

export const WHEN_CHOICES: Choice<WhenKind>[] = [
  { group: 'On time', value: 'in', label: '$(watch) In some minutes', detail: 'Once, after a delay: 10m, 30s, 2h' },
  { value: 'at', label: '$(calendar) At a time', detail: 'Once, at a time: 17:30, or 2026-12-01T09:00' },
  { value: 'cron', label: '$(history) On a cron schedule', detail: 'Repeatedly: "0 9 * * 1-5" is 9:00 on weekdays' },
  { value: 'every', label: '$(sync) Every so often', detail: 'Repeatedly, at a fixed interval: 15m, 1h' },
  { group: 'On an event', value: 'webhook', label: '$(plug) When a webhook arrives', detail: 'Each delivery to the named hook runs it' },
  { value: 'after', label: '$(arrow-right) After other actions', detail: 'A step of the flow they start: runs once they have all succeeded' },
  { group: 'While you develop', value: 'change', label: '$(file-code) When files change', detail: 'Files matching a glob are created, changed or deleted: src/**/*.ts' },
  { value: 'git', label: '$(git-commit) On a git event', detail: 'A commit, a branch switch or a merge, optionally on some branches only' },
  { value: 'afterTask', label: '$(checklist) After a VS Code task', detail: 'A task from tasks.json ended: each time, or only when it succeeds or fails' },
  { value: 'open', label: '$(folder-opened) When the folder opens', detail: 'Once each time VS Code (or sdlc-orchestrator run) starts on this folder' },
  { group: 'By hand', value: 'manual', label: '$(debug-start) Only when I run it', detail: 'Run it from the tree or with "Run Action Now"' },
];

/** The kinds whose value is typed (the others are picked, or need no value). */
export type TypedWhen = Exclude<WhenKind, 'after' | 'manual' | 'open'>;

export const WHEN_PROMPTS: Record<TypedWhen, { prompt: string; placeholder: string }> = {
  in: { prompt: 'Run after how long? A number is minutes.', placeholder: '10m' },
  at: { prompt: 'Run at what time? HH:MM (the next one), or a date and time.', placeholder: '17:30 or 2026-12-01T09:00' },
  cron: { prompt: 'Cron expression: minute hour day month weekday (a 6th field first adds seconds).', placeholder: '0 9 * * 1-5' },
  every: { prompt: 'Run how often?', placeholder: '15m' },
  webhook: { prompt: 'Webhook name (letters, digits, ".", "_", "-").', placeholder: 'deploy' },
  change: { prompt: 'Which files? Globs relative to the folder, separated by commas.', placeholder: 'src/**/*.ts, test/**' },
  git: { prompt: 'Which git event: commit, checkout or merge, then optionally a branch pattern.', placeholder: 'commit main' },
  afterTask: { prompt: 'After which task (its label in tasks.json)?', placeholder: 'build' },
};
