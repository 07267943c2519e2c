// A step's outputs, as GitHub Actions' GITHUB_OUTPUT: the run appends `key=value` lines (or
// `key<<DELIMITER` … `DELIMITER` for several lines) to the file named by $SDLC_OUTPUT, and every
// step that follows it in the flow sees them as SDLC_OUT_<ACTION>_<KEY>. Values only ever become
// environment variables, never shell text.
import * as fs from 'node:fs';

export const OUTPUT_ENV = 'SDLC_OUTPUT';
export const FLOW_ENV = 'SDLC_FLOW_ID';
/** More than this is not read: outputs are small values (a version, a path), not logs. */
export const MAX_OUTPUT_BYTES = 64 * 1024;
export const MAX_OUTPUT_KEYS = 100;
const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export interface ParsedOutputs {
  outputs: Record<string, string>;
  /** Lines that were not outputs, as "line N: why" (recorded with the run's end). */
  problems: string[];
}

export function parseOutputs(text: string): ParsedOutputs {
  const outputs: Record<string, string> = {};
  const problems: string[] = [];
  const lines = text.split(/\r?\n/);
  const set = (key: string, value: string, line: number) => {
    if (value.includes('\0')) problems.push(`line ${line}: the value of "${key.slice(0, 40)}" holds a NUL byte, which no environment variable can`);
    else if (!KEY.test(key)) problems.push(`line ${line}: "${key.slice(0, 40)}" is not a key (letters, digits, "_" and "-", not starting with a digit)`);
    else if (!(key in outputs) && Object.keys(outputs).length >= MAX_OUTPUT_KEYS) problems.push(`line ${line}: more than ${MAX_OUTPUT_KEYS} keys; "${key}" was left out`);
    else outputs[key] = value;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, key, delimiter] = heredoc;
      const end = lines.indexOf(delimiter, i + 1);
      if (end < 0) {
        problems.push(`line ${i + 1}: "${key}<<${delimiter}" is never closed by a line "${delimiter}"`);
        break;
      }
      set(key.trim(), lines.slice(i + 1, end).join('\n'), i + 1);
      i = end;
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) {
      problems.push(`line ${i + 1}: not key=value`);
      continue;
    }
    set(line.slice(0, eq).trim(), line.slice(eq + 1), i + 1);
  }
  return { outputs, problems };
}

/** Reads a run's output file, if it wrote one; more than MAX_OUTPUT_BYTES is cut, with a problem said. */
export function readOutputFile(file: string): ParsedOutputs | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined; // it wrote no outputs
  }
  try {
    const buf = Buffer.alloc(MAX_OUTPUT_BYTES + 1);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    const parsed = parseOutputs(buf.subarray(0, Math.min(n, MAX_OUTPUT_BYTES)).toString('utf8'));
    if (n > MAX_OUTPUT_BYTES) parsed.problems.push(`the file is larger than ${MAX_OUTPUT_BYTES / 1024} KiB; only its start was read`);
    return parsed;
  } finally {
    fs.closeSync(fd);
  }
}

/** The variable part of a name: upper case, anything but letters and digits as "_". */
export function envPart(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The environment a step sees its upstreams' outputs through. */
export function outputsEnv(upstreams: { name: string; outputs?: Record<string, string> }[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const u of upstreams) {
    if (!u.outputs) continue;
    for (const [k, v] of Object.entries(u.outputs)) env[`SDLC_OUT_${envPart(u.name)}_${envPart(k)}`] = v;
  }
  return env;
}
