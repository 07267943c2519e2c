// When an action runs, in the user's words: the choices Schedule Action offers at its "When?"
// step and the panel's Add form offers in its dropdown. Only the l10n shim is imported, so the
// webview bundles it without the engine.
import * as l10n from '@vscode/l10n';

export interface Choice<T> {
  value: T;
  label: string;
  description?: string;
  detail?: string;
  /** A heading shown above the first choice of each group (the wizard's separators). */
  group?: string;
}

export type WhenKind = 'in' | 'at' | 'cron' | 'every' | 'webhook' | 'after' | 'manual' | 'change' | 'git' | 'afterTask' | 'open';

/** The choices, in the user's language (a function: the language is known only once the extension or page runs). */
export function whenChoices(): Choice<WhenKind>[] {
  return [
    { group: l10n.t('On time'), value: 'in', label: l10n.t('$(watch) In some minutes'), detail: l10n.t('Once, after a delay: 10m, 30s, 2h') },
    { value: 'at', label: l10n.t('$(calendar) At a time'), detail: l10n.t('Once, at a time: 17:30, or 2026-12-01T09:00') },
    { value: 'cron', label: l10n.t('$(history) On a cron schedule'), detail: l10n.t('Repeatedly: "0 9 * * 1-5" is 9:00 on weekdays') },
    { value: 'every', label: l10n.t('$(sync) Every so often'), detail: l10n.t('Repeatedly, at a fixed interval: 15m, 1h') },
    { group: l10n.t('On an event'), value: 'webhook', label: l10n.t('$(plug) When a webhook arrives'), detail: l10n.t('Each delivery to the named hook runs it') },
    { value: 'after', label: l10n.t('$(arrow-right) After other actions'), detail: l10n.t('A step of the flow they start: runs once they have all succeeded') },
    { group: l10n.t('While you develop'), value: 'change', label: l10n.t('$(file-code) When files change'), detail: l10n.t('Files matching a glob are created, changed or deleted: src/**/*.ts') },
    { value: 'git', label: l10n.t('$(git-commit) On a git event'), detail: l10n.t('A commit, a branch switch or a merge, optionally on some branches only') },
    { value: 'afterTask', label: l10n.t('$(checklist) After a VS Code task'), detail: l10n.t('A task from tasks.json ended: each time, or only when it succeeds or fails') },
    { value: 'open', label: l10n.t('$(folder-opened) When the folder opens'), detail: l10n.t('Once each time VS Code (or sdlc-orchestrator run) starts on this folder') },
    { group: l10n.t('By hand'), value: 'manual', label: l10n.t('$(debug-start) Only when I run it'), detail: l10n.t('Run it from the tree or with "Run Action Now"') },
  ];
}

/** The kinds whose value is typed (the others are picked, or need no value). */
export type TypedWhen = Exclude<WhenKind, 'after' | 'manual' | 'open'>;

export function whenPrompts(): Record<TypedWhen, { prompt: string; placeholder: string }> {
  return {
    in: { prompt: l10n.t('Run after how long? A number is minutes.'), placeholder: '10m' },
    at: { prompt: l10n.t('Run at what time? HH:MM (the next one), or a date and time.'), placeholder: l10n.t('17:30 or 2026-12-01T09:00') },
    cron: { prompt: l10n.t('Cron expression: minute hour day month weekday (a 6th field first adds seconds).'), placeholder: '0 9 * * 1-5' },
    every: { prompt: l10n.t('Run how often?'), placeholder: '15m' },
    webhook: { prompt: l10n.t('Webhook name (letters, digits, ".", "_", "-").'), placeholder: 'deploy' },
    change: { prompt: l10n.t('Which files? Globs relative to the folder, separated by commas.'), placeholder: 'src/**/*.ts, test/**' },
    git: { prompt: l10n.t('Which git event: commit, checkout or merge, then optionally a branch pattern.'), placeholder: 'commit main' },
    afterTask: { prompt: l10n.t('After which task (its label in tasks.json)?'), placeholder: 'build' },
  };
}
