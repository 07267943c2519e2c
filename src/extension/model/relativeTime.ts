// "in 3 min", "2 min ago": how the tree and the status bar say when.

export function relativeTime(at: number, now: number): string {
  const diff = at - now;
  const abs = Math.abs(diff);
  if (abs < 1000) return diff >= 0 ? 'now' : 'just now';
  let amount: string;
  if (abs < 60_000) amount = `${Math.round(abs / 1000)} s`;
  else if (abs < 3_600_000) amount = `${Math.round(abs / 60_000)} min`;
  else if (abs < 86_400_000) amount = `${Math.round(abs / 3_600_000)} h`;
  else amount = `${Math.round(abs / 86_400_000)} d`;
  return diff >= 0 ? `in ${amount}` : `${amount} ago`;
}

/** A compact duration for history rows: 850ms, 12.3s, 4m 05s, 1h 02m. */
export function shortDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
  return `${Math.floor(ms / 3_600_000)}h ${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;
}
