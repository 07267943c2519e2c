// `node cases/activation.js`: the extension's activation time in a real VS Code (code-server,
// set up by test/e2e/setup-vscode.sh), as the extension logs it, for a folder that already has
// an orchestrator database (so it activates at start-up). Three launches.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { REPO, tmpdir } = require('../lib');

function findLog(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const found = findLog(p);
      if (found) return found;
    } else if (entry.name.endsWith('.log')) {
      const text = fs.readFileSync(p, 'utf8');
      const m = /activated in ([\d.]+) ms/.exec(text);
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}

(async () => {
  if (!fs.existsSync(path.join(REPO, '.cache', 'vscode', '.ready'))) {
    process.stdout.write(JSON.stringify({ skipped: 'run `bash test/e2e/setup-vscode.sh` first' }) + '\n');
    return;
  }
  const { launch } = require(path.join(REPO, 'test', 'e2e', 'vscode.js'));
  const times = [];
  for (let i = 0; i < 3; i++) {
    const folder = tmpdir('act');
    spawnSync(process.execPath, [path.join(REPO, 'bin', 'sdlc-orchestrator.js'), 'add', '--workspace', folder, '--name', 'x', '--manual', '--run', 'true']);
    const vs = await launch({ vsix: path.join(REPO, 'sdlc-orchestrator.vsix'), folder });
    let ms;
    for (let t = 0; t < 100 && ms === undefined; t++) {
      await vs.page.waitForTimeout(200);
      ms = findLog(vs.root);
    }
    await vs.close();
    fs.rmSync(folder, { recursive: true, force: true });
    if (ms !== undefined) times.push(ms);
  }
  process.stdout.write(JSON.stringify({ activationMs: times }) + '\n');
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
