// Names and commands come from users and from files others wrote. Shown raw, a newline would
// forge a line of `list` output and an escape sequence would drive the reader's terminal, so
// every place that shows one shows it through this: control characters as visible escapes.

// C0 controls, DEL and the C1 controls (0x9b is a one-byte CSI on some terminals), and the
// Unicode line and paragraph separators.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

export function displayText(s: string): string {
  return s.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
