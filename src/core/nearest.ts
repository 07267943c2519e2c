// What a mistyped word most likely meant, among the words that are known: the actions file's
// keys, the command line's commands and flags. Used only to suggest, never to guess.
/** The known key a mistyped one most likely meant: same letters ignoring case and dashes, or one or two edits away. */
export function nearest(key: string, known: string[]): string | undefined {
  const flat = (k: string) => k.toLowerCase().replace(/[-_ ]/g, '');
  const same = known.find((k) => flat(k) === flat(key));
  if (same) return same;
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(flat(key), flat(k));
    if (d <= Math.min(2, Math.floor(k.length / 3)) && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/** Edits between two words, a swap of neighbours counting as one ("evrey" is one from "every"). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
