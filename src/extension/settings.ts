// Every setting, read fresh through one typed class. RESTART_SETTINGS lists those the
// orchestrators must be restarted for.
import * as vscode from 'vscode';
import type { CatchUpPolicy } from '../core/model';
import { validateNotify, type NotifySpec } from '../core/notify/notifySpec';

const SECTION = 'sdlcOrchestrator';

export const RESTART_SETTINGS = [
  'tickIntervalMs',
  'maxConcurrentRuns',
  'historyRetentionDays',
  'historyRetentionRuns',
  'catchUpDefault',
  'defaultRunner',
  'webhooks.enabled',
  'webhooks.host',
  'webhooks.port',
  'webhooks.maxBodyKiB',
  'webhooks.ratePerMinute',
  'api.enabled',
  'notify.url',
  'notify.on',
  'notify.format',
] as const;

export class Settings {
  private get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }
  get tickIntervalMs(): number {
    return Math.max(50, this.config.get<number>('tickIntervalMs', 500));
  }
  get maxConcurrentRuns(): number {
    return Math.max(1, this.config.get<number>('maxConcurrentRuns', 16));
  }
  get historyRetentionDays(): number {
    return Math.max(1, this.config.get<number>('historyRetentionDays', 30));
  }
  get historyRetentionRuns(): number {
    return Math.max(10, this.config.get<number>('historyRetentionRuns', 10_000));
  }
  get defaultRunner(): 'task' | 'terminal' | 'process' {
    return this.config.get<'task' | 'terminal' | 'process'>('defaultRunner', 'task');
  }
  get notifyOnFailure(): boolean {
    return this.config.get<boolean>('notifyOnFailure', true);
  }
  get openWalkthroughOnFirstRun(): boolean {
    return this.config.get<boolean>('openWalkthroughOnFirstRun', true);
  }
  get catchUpDefault(): CatchUpPolicy {
    return this.config.get<CatchUpPolicy>('catchUpDefault', 'once');
  }

  get webhooksEnabled(): boolean {
    return this.config.get<boolean>('webhooks.enabled', true);
  }
  get webhooksHost(): string {
    return this.config.get<string>('webhooks.host', '127.0.0.1').trim() || '127.0.0.1';
  }
  get webhooksPort(): number {
    const p = this.config.get<number>('webhooks.port', 0);
    return Number.isInteger(p) && p >= 0 && p <= 65535 ? p : 0;
  }
  get webhooksMaxBodyBytes(): number {
    return Math.max(1, this.config.get<number>('webhooks.maxBodyKiB', 1024)) * 1024;
  }
  get webhooksRatePerMinute(): number {
    return Math.max(1, this.config.get<number>('webhooks.ratePerMinute', 120));
  }

  get apiEnabled(): boolean {
    return this.config.get<boolean>('api.enabled', true);
  }
  /** The folder's default notification, or why the settings do not make one. */
  get notifyDefault(): { spec?: NotifySpec; error?: string } {
    const url = this.config.get<string>('notify.url', '').trim();
    if (!url) return {};
    const format = this.config.get<string>('notify.format', 'auto');
    try {
      return { spec: validateNotify({ notify: url, notifyOn: this.config.get<string>('notify.on', 'failure'), notifyFormat: format === 'auto' ? undefined : format }) };
    } catch (err) {
      return { error: (err as Error).message.replace(/^notify/, 'sdlcOrchestrator.notify.url') };
    }
  }

  /** Whether a configuration change touches a setting the orchestrators must restart for. */
  needsRestart(e: vscode.ConfigurationChangeEvent): boolean {
    return RESTART_SETTINGS.some((key) => e.affectsConfiguration(`${SECTION}.${key}`));
  }

  affects(e: vscode.ConfigurationChangeEvent): boolean {
    return e.affectsConfiguration(SECTION);
  }
}
