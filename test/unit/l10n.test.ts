// Localizable: every user-facing string of the extension can be translated by adding a file.
// package.json's text comes from package.nls.json; the code's strings go through vscode.l10n or
// @vscode/l10n (the model files and the panel's page), and l10n/bundle.l10n.json, the template a
// translator copies, is what the exporter finds in the code now. A pseudo-translation loaded as
// a bundle shows up in what the tree and the panel's rows say.
import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as l10n from '@vscode/l10n';
import { buildTree } from '../../src/extension/model/treeModel';
import { whenChoices } from '../../src/extension/model/whenChoices';
import { dayKey, dayLabel } from '../../webview/viewModel';
import { REPO, tmpWorkspace } from './helpers';

const USER_FACING = new Set(['title', 'category', 'name', 'contextualTitle', 'description', 'markdownDescription', 'enumDescriptions', 'markdownEnumDescriptions', 'contents', 'displayName']);

function* strings(node: unknown, key = '', at = ''): Generator<[string, string, string]> {
  if (typeof node === 'string') yield [key, node, at];
  else if (Array.isArray(node)) for (const [i, x] of node.entries()) yield* strings(x, key, `${at}[${i}]`);
  else if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) yield* strings(v, USER_FACING.has(k) ? k : key === 'enumDescriptions' ? key : '', `${at}.${k}`);
}

describe('localizable text', function () {
  this.timeout(60_000);

  it('package.json says nothing itself: each title, description and walkthrough text is a %key% of package.nls.json', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    const nls = JSON.parse(fs.readFileSync(path.join(REPO, 'package.nls.json'), 'utf8'));
    let checked = 0;
    for (const [key, value, at] of strings({ displayName: pkg.displayName, description: pkg.description, contributes: pkg.contributes })) {
      if (!key) continue;
      checked++;
      const m = /^%(.+)%$/.exec(value);
      assert.ok(m, `${at} is written in package.json itself: "${value.slice(0, 60)}"`);
      assert.ok(typeof nls[m[1]] === 'string' && nls[m[1]].length > 0, `${at}: ${m[1]} is not in package.nls.json`);
    }
    assert.ok(checked > 60, `${checked} texts`);
    assert.ok(fs.readFileSync(path.join(REPO, '.vscodeignore'), 'utf8').includes('!package.nls.json'), 'the .vsix ships it');
  });

  it('no message is shown without going through l10n', () => {
    const dir = path.join(REPO, 'src', 'extension');
    const files = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith('.ts'));
    const raw = /(show(Information|Warning|Error)Message|setStatusBarMessage)\(\s*(['`"])/;
    for (const f of files) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const line = text.split('\n').findIndex((l) => raw.test(l));
      assert.strictEqual(line, -1, `${f}:${line + 1} shows a message that is not translated`);
    }
  });

  it('l10n/bundle.l10n.json, the template for translators, holds every string the code translates, as the exporter finds them now', () => {
    const out = tmpWorkspace();
    const r = spawnSync(process.execPath, [path.join(REPO, 'node_modules', '@vscode', 'l10n-dev', 'dist', 'cli.js'), 'export', '--outDir', out, './src/extension', './webview'], { cwd: REPO, encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    const fresh = JSON.parse(fs.readFileSync(path.join(out, 'bundle.l10n.json'), 'utf8'));
    const committed = JSON.parse(fs.readFileSync(path.join(REPO, 'l10n', 'bundle.l10n.json'), 'utf8'));
    assert.deepStrictEqual(Object.keys(committed).sort(), Object.keys(fresh).sort(), 'run `npm run l10n` and commit l10n/bundle.l10n.json');
    assert.ok(Object.keys(fresh).length > 400, `${Object.keys(fresh).length} strings`);
    for (const s of ['Schedule Action', 'Nothing queued. Schedule Action adds work.', 'Runs over time', '{0} run(s) of {1} action(s) in the last hour', 'Re-run Failed Steps']) assert.ok(s in fresh, s);
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('a translation is a file: a bundle loaded at run time changes what the tree, the wizard and the panel say', () => {
    const template = JSON.parse(fs.readFileSync(path.join(REPO, 'l10n', 'bundle.l10n.json'), 'utf8')) as Record<string, string | { message: string }>;
    // A pseudo-locale: each message in brackets, placeholders kept.
    const pseudo = Object.fromEntries(Object.keys(template).map((k) => [k, `⟦${k}⟧`]));
    l10n.config({ contents: pseudo });
    try {
      const [queue, history] = buildTree([{ name: 'w', path: '/w', actions: [], history: [], deliveries: [] }], Date.now());
      assert.strictEqual(queue.label, '⟦Queue⟧');
      assert.strictEqual(history.children![0].label, '⟦No runs yet.⟧');
      assert.ok(whenChoices().every((c) => c.label.startsWith('⟦')));
      assert.strictEqual(dayLabel(dayKey(Date.now()), Date.now()), '⟦Today⟧');
    } finally {
      l10n.config({ contents: {} });
    }
  });
});
