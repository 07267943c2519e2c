// What identifies a definition and what a person approves: hashes of their content, written
// apart from the parser so that the engine can use them without loading the YAML library (a
// command-line `add` starts fast).
import { createHash } from 'crypto';

export const ACTIONS_FILE = 'actions.yaml';
/** Larger files are refused before parsing: a definitions file is hand-written. */
export const MAX_FILE_BYTES = 1024 * 1024;

/** The line and column text of a problem, as compilers print it (`file:line:column: message`). */
export function problemText(p: { line: number; column: number; message: string }, file: string): string {
  return `${file}:${p.line}:${p.column}: ${p.message}`;
}

export function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so that equal definitions hash equally however they are written. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function definitionHash(d: object): string {
  return sha(canonical(d)).slice(0, 32);
}

/** What a person approves: exactly what would execute, wherever it is written. */
export function approvalKeyOf(run: { command: string; task?: string; cwd?: string; env?: Record<string, string> }): string {
  return sha(canonical({ command: run.command, task: run.task, cwd: run.cwd, env: run.env })).slice(0, 32);
}

