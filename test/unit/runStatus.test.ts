import * as assert from 'assert';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { inspectLeftRun, POSIX_WRAPPER, recordedExit, runStatusFiles } from '../../src/core/runStatus';
import { tmpWorkspace } from './helpers';

describe("a run's status file (its pid, then its exit status)", () => {
  const dirWith = () => {
    const dir = path.join(tmpWorkspace(), 'runs');
    fs.mkdirSync(dir);
    return dir;
  };

  it('the wrapper leaves its pid and, appended, its exit status, in one file', () => {
    const dir = dirWith();
    for (const [runId, command, code] of [['ok', 'true', 0], ['says', 'exit 7', 7], ['fails', 'false', 1]] as const) {
      const files = runStatusFiles(dir, runId);
      const r = spawnSync('/bin/sh', ['-c', POSIX_WRAPPER, 'sdlc-run', command, files.pid, files.out], { cwd: dir });
      assert.strictEqual(r.status, code);
      assert.match(fs.readFileSync(files.pid, 'utf8'), new RegExp(`^\\d+\\n${code}\\n$`));
      assert.deepStrictEqual(inspectLeftRun(dir, runId), { kind: 'exited', exitCode: code, output: '' });
      assert.ok(!fs.existsSync(files.legacyExit), 'no second file');
    }
  });

  it('an exit status still being written does not count, and a run with its pid gone is cut off', () => {
    const dir = dirWith();
    const files = runStatusFiles(dir, 'torn');
    fs.writeFileSync(files.pid, '999999999\n1'); // no such pid; the exit line lacks its newline
    assert.strictEqual(recordedExit(dir, 'torn'), undefined);
    assert.deepStrictEqual(inspectLeftRun(dir, 'torn'), { kind: 'gone' });
  });

  it('reads the exit file an older wrapper wrote for a run it started', () => {
    const dir = dirWith();
    const files = runStatusFiles(dir, 'old');
    fs.writeFileSync(files.pid, '999999999\n');
    fs.writeFileSync(files.legacyExit, '3\n');
    assert.strictEqual(recordedExit(dir, 'old'), 3);
    assert.strictEqual(inspectLeftRun(dir, 'old').kind, 'exited');
  });
});
