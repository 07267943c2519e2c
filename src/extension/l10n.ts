// Every user-facing string of the extension goes through t(): the English is written in the code,
// and a translation is a file — l10n/bundle.l10n.<locale>.json for the code (`npm run l10n`
// writes the English template, l10n/bundle.l10n.json) and package.nls.<locale>.json for
// package.json. The model/ files cannot import vscode, so they call this; activation points it
// at vscode.l10n.t. Placeholders are {0}, {1}, … (the command line stays English).
export type Arg = string | number | boolean;

/** Puts the arguments in their {n} places. */
export function fill(message: string, args: readonly Arg[]): string {
  return message.replace(/\{(\d+)\}/g, (all, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : all));
}

let translate: (message: string, args: Arg[]) => string = fill;

export function t(message: string, ...args: Arg[]): string {
  return translate(message, args);
}

/** Called once at activation with vscode.l10n.t (which falls back to the English). */
export function translateWith(fn: (message: string, args: Arg[]) => string): void {
  translate = fn;
}
