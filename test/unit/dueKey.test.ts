import * as assert from 'assert';
import { dueKey, dueKeyTime, dueKeyUpperBound } from '../../src/core/dueKey';
import { loadSqlJs } from '../../src/core/store/sqljs';
import { randomUUID as uuidv4 } from 'crypto';

function compare(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

describe('due key', () => {
  // Times across the whole range, with the edges where a naive encoding breaks:
  // 32-bit word boundaries, sign bits, and the largest safe integer.
  const edges = [0, 1, 255, 256, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 40, Date.now(), 2 ** 52, 2 ** 53 - 2, 2 ** 53 - 1];
  const random = Array.from({ length: 2000 }, () => Math.floor(Math.random() * 2 ** Math.floor(Math.random() * 54)));
  const times = [...edges, ...random];

  it('is 24 bytes: 8-byte big-endian time, then the 16-byte uuid', () => {
    const id = '0123abcd-4567-89ef-0123-456789abcdef';
    const key = dueKey(0x0102030405, id);
    assert.strictEqual(key.length, 24);
    assert.deepStrictEqual([...key.slice(0, 8)], [0, 0, 0, 1, 2, 3, 4, 5]);
    assert.strictEqual(Buffer.from(key.slice(8)).toString('hex'), id.replace(/-/g, ''));
  });

  it('round-trips every time in [0, 2^53)', () => {
    for (const t of times) assert.strictEqual(dueKeyTime(dueKey(t, uuidv4())), t);
  });

  it('sorts bytewise in time order across the whole range', () => {
    const keys = times.map((t) => ({ t, key: dueKey(t, uuidv4()) }));
    const byBytes = [...keys].sort((a, b) => compare(a.key, b.key)).map((k) => k.t);
    const byTime = [...times].sort((a, b) => a - b);
    assert.deepStrictEqual(byBytes, byTime);
  });

  it('orders equal times by uuid, and the upper bound includes every uuid at that time', () => {
    const t = 2 ** 32;
    const lo = dueKey(t, '00000000-0000-4000-8000-000000000000');
    const hi = dueKey(t, 'ffffffff-ffff-4fff-bfff-ffffffffffff');
    assert.ok(compare(lo, hi) < 0);
    assert.ok(compare(hi, dueKeyUpperBound(t)) <= 0);
    assert.ok(compare(dueKey(t + 1, '00000000-0000-4000-8000-000000000000'), dueKeyUpperBound(t)) > 0);
  });

  it('refuses times it cannot encode', () => {
    assert.throws(() => dueKey(-1, uuidv4()), RangeError);
    assert.throws(() => dueKey(2 ** 53, uuidv4()), RangeError);
    assert.throws(() => dueKey(1.5, uuidv4()), RangeError);
  });

  it('in SQLite, an indexed range scan `key <= bound(now)` returns exactly the due rows, oldest first', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    try {
      db.run('CREATE TABLE q (id TEXT, t INTEGER, k BLOB)');
      db.run('CREATE INDEX q_k ON q(k)');
      const stmt = db.prepare('INSERT INTO q VALUES (?, ?, ?)');
      for (const t of times) {
        const id = uuidv4();
        stmt.run([id, t, dueKey(t, id)]);
      }
      stmt.free();
      const plan = db.exec('EXPLAIN QUERY PLAN SELECT t FROM q WHERE k <= ? ORDER BY k', [dueKeyUpperBound(0)]);
      assert.match(String(plan[0].values.map((r) => r[3]).join(' ')), /USING (COVERING )?INDEX q_k/);
      for (const now of [0, 2 ** 32, Date.now(), 2 ** 53 - 1, 12345]) {
        const res = db.exec('SELECT t FROM q WHERE k <= ? ORDER BY k', [dueKeyUpperBound(now)]);
        const got = res.length ? res[0].values.map((r) => r[0] as number) : [];
        const want = times.filter((t) => t <= now).sort((a, b) => a - b);
        assert.deepStrictEqual(got, want, `due at ${now}`);
      }
    } finally {
      db.close();
    }
  });
});
