// Human durations ("500ms", "30s", "10m", "2h", "1d", "1h30m") to milliseconds and back.
import { ValidationError } from './errors';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Parses a duration; throws a ValidationError naming `field` when it is not one. */
export function parseDuration(text: string, field = 'duration'): number {
  const s = String(text ?? '').trim();
  if (!s) throw new ValidationError(field, `${field} is empty; write a duration such as 500ms, 30s, 10m, 2h or 1d`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m) {
      throw new ValidationError(
        field,
        `${field} "${text}" is not a duration (at "${s.slice(at)}"); write a number with a unit: 500ms, 30s, 10m, 2h, 1d`,
      );
    }
    total += Number(m[1]) * UNIT_MS[m[2]];
  }
  if (!Number.isFinite(total) || total <= 0) {
    throw new ValidationError(field, `${field} "${text}" must be longer than zero`);
  }
  return Math.round(total);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${ms % 60_000 >= 1000 ? `${Math.round((ms % 60_000) / 1000)}s` : ''}`;
  if (ms < 86_400_000) return `${Math.floor(ms / 3_600_000)}h${ms % 3_600_000 >= 60_000 ? `${Math.round((ms % 3_600_000) / 60_000)}m` : ''}`;
  return `${Math.floor(ms / 86_400_000)}d${ms % 86_400_000 >= 3_600_000 ? `${Math.round((ms % 86_400_000) / 3_600_000)}h` : ''}`;
}
