import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import { wakeAt } from '../../src/core/preciseWake';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('precise wake-ups (one worker thread for the process)', () => {
  it('calls each wake once, in time order, never before Date.now() reaches it', async () => {
    const base = Date.now() + 20;
    const ats = [37, 5, 22, 22, 60, 11, 48, 1, 30, 15].map((d) => base + d);
    const fired: { at: number; now: number }[] = [];
    const handles = ats.map((at) => wakeAt(at, () => fired.push({ at, now: Date.now() })));
    assert.ok(handles.every(Boolean), 'a worker thread can run here');
    await sleep(base + 60 - Date.now() + 100);
    assert.strictEqual(fired.length, ats.length);
    for (const f of fired) assert.ok(f.now >= f.at, `woken at ${f.now}, before ${f.at}`);
    assert.deepStrictEqual(
      fired.map((f) => f.at),
      [...ats].sort((a, b) => a - b),
    );
  });

  it('never calls a cancelled wake, and an earlier one asked for later still comes first', async () => {
    const fired: string[] = [];
    const late = wakeAt(Date.now() + 80, () => fired.push('late'))!;
    const cancelled = wakeAt(Date.now() + 40, () => fired.push('cancelled'))!;
    wakeAt(Date.now() + 20, () => fired.push('early'));
    cancelled.cancel();
    await sleep(60);
    assert.deepStrictEqual(fired, ['early']);
    late.cancel();
    await sleep(60);
    assert.deepStrictEqual(fired, ['early']);
  });

  it('does not keep a process alive: a wake an hour away does not hold its exit', () => {
    const module = path.join(__dirname, '../../src/core/preciseWake.js');
    const started = Date.now();
    const out = execFileSync(process.execPath, ['-e', `const w = require(${JSON.stringify(module)}); console.log(Boolean(w.wakeAt(Date.now() + 3600000, () => {})))`], { encoding: 'utf8', timeout: 20_000 });
    assert.strictEqual(out.trim(), 'true');
    assert.ok(Date.now() - started < 15_000);
  });
});
