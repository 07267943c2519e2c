import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { runStatusFiles } from '../../src/core/runStatus';
import { removeRunStatus } from '../../src/core/runStatusRemover';
import { tmpWorkspace } from './helpers';

function writeAll(dir: string, runId: string, which: (keyof ReturnType<typeof runStatusFiles>)[]): void {
  const f = runStatusFiles(dir, runId);
  for (const k of which) fs.writeFileSync(f[k], `${k}\n`);
}

describe("removing ended runs' status files (one low-priority worker thread)", () => {
  it('removes every file a run left, whichever it left, and only those runs', async () => {
    const dir = path.join(tmpWorkspace(), 'runs');
    fs.mkdirSync(dir);
    writeAll(dir, 'a', ['pid', 'legacyExit', 'out', 'changed', 'output']);
    writeAll(dir, 'b', ['pid', 'out']); // cut off before its exit; no changed list, no outputs
    writeAll(dir, 'c', []); // never got as far as its pid file
    writeAll(dir, 'keep', ['pid', 'out']);
    fs.writeFileSync(path.join(dir, 'unrelated.txt'), 'x');
    assert.strictEqual(await removeRunStatus(dir, ['a', 'b', 'c']), undefined);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['keep.out', 'keep.pid', 'unrelated.txt']);
    assert.strictEqual(await removeRunStatus(dir, []), undefined, 'nothing to remove is no work');
  });

  it('says what it could not remove and goes on with the rest', async () => {
    const dir = path.join(tmpWorkspace(), 'runs');
    fs.mkdirSync(dir);
    writeAll(dir, 'a', ['pid']);
    fs.mkdirSync(runStatusFiles(dir, 'a').out); // a folder where a file was: unlink refuses it
    writeAll(dir, 'b', ['pid', 'out']);
    const err = await removeRunStatus(dir, ['a', 'b']);
    assert.ok(err, 'the failure is reported');
    assert.match(err.message, /a\.out/);
    assert.deepStrictEqual(fs.readdirSync(dir), ['a.out']);
  });

  it('answers many requests in flight, each once', async () => {
    const dir = path.join(tmpWorkspace(), 'runs');
    fs.mkdirSync(dir);
    const ids = Array.from({ length: 200 }, (_, i) => `r${i}`);
    for (const id of ids) writeAll(dir, id, ['pid', 'out']);
    const answers = await Promise.all(ids.map((id) => removeRunStatus(dir, [id])));
    assert.ok(answers.every((a) => a === undefined));
    assert.deepStrictEqual(fs.readdirSync(dir), []);
  });

  it('a process that asked for a removal exits once it is done, and not before', () => {
    const dir = path.join(tmpWorkspace(), 'runs');
    fs.mkdirSync(dir);
    for (let i = 0; i < 3000; i++) writeAll(dir, `r${i}`, ['pid', 'out']);
    const module = path.join(__dirname, '../../src/core/runStatusRemover.js');
    const ids = JSON.stringify(Array.from({ length: 3000 }, (_, i) => `r${i}`));
    // Nothing else keeps this process alive: it must neither hang on the worker nor exit early.
    const started = Date.now();
    execFileSync(process.execPath, ['-e', `require(${JSON.stringify(module)}).removeRunStatus(${JSON.stringify(dir)}, ${ids})`], { timeout: 20_000 });
    assert.deepStrictEqual(fs.readdirSync(dir), []);
    assert.ok(Date.now() - started < 15_000);
  });
});
