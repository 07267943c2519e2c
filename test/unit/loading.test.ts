import * as assert from 'assert';
import fc from 'fast-check';
import type { SqlValue } from 'sql.js';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fastBinder, statementPointer } from '../../src/core/store/fastBind';
import { loadSqlJs, readDatabaseFile, readDatabaseFileAsync } from '../../src/core/store/sqljs';

describe('a snapshot loaded with room to grow', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdlc-load-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is the same database as one read plainly, inside its room and past it, and the file on disk is untouched', async () => {
    const SQL = await loadSqlJs();
    const seed = new SQL.Database();
    seed.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL); CREATE INDEX t_body ON t(body)');
    seed.exec('BEGIN');
    for (let i = 0; i < 2000; i++) seed.run('INSERT INTO t (body) VALUES (?)', [`row ${i} ${'x'.repeat(i % 300)}`]);
    seed.exec('COMMIT');
    const file = path.join(dir, 'seed.db');
    fs.writeFileSync(file, seed.export());
    seed.close();
    const onDisk = fs.readFileSync(file);

    const plain = new SQL.Database(fs.readFileSync(file));
    const bytes = readDatabaseFile(file, 64 * 1024)!;
    const roomy = new SQL.Database(bytes); // a little room: growth goes past it
    // MEMFS took the larger array (after a sql.js upgrade that no longer does, loading copies again):
    assert.strictEqual((bytes as unknown as { room?: Uint8Array }).room, undefined, 'sql.js took the room');
    const roomyAsync = new SQL.Database((await readDatabaseFileAsync(file, 64 << 20))!); // room for all of it
    const grow = (db: typeof plain) => {
      db.exec('BEGIN');
      for (let i = 0; i < 3000; i++) db.run('INSERT INTO t (body) VALUES (?)', [`more ${i} ${'é☃'.repeat(i % 200)}`]);
      db.run('DELETE FROM t WHERE id % 7 = 0');
      db.exec('COMMIT');
      return db.export();
    };
    const expected = grow(plain);
    for (const db of [roomy, roomyAsync]) {
      assert.strictEqual(db.exec('PRAGMA integrity_check')[0].values[0][0], 'ok');
      const bytes = grow(db);
      assert.ok(Buffer.from(bytes).equals(Buffer.from(expected)), 'the same bytes as the plainly read copy after the same changes');
      assert.deepStrictEqual(db.exec('SELECT count(*), sum(length(body)) FROM t'), plain.exec('SELECT count(*), sum(length(body)) FROM t'));
      db.close();
    }
    plain.close();
    assert.ok(fs.readFileSync(file).equals(onDisk), 'the snapshot file is only read');
  });

  it('says a missing file is missing', async () => {
    assert.strictEqual(readDatabaseFile(path.join(dir, 'none.db'), 0), undefined);
    assert.strictEqual(await readDatabaseFileAsync(path.join(dir, 'none.db'), 0), undefined);
  });
});

describe('values bound through SQLite’s C API (fastBind.ts)', () => {
  it('store exactly what sql.js’s own bind stores, for every kind of value', async () => {
    const SQL = await loadSqlJs();
    const value = fc.oneof(
      fc.constant(null),
      fc.integer(),
      fc.integer({ min: -(2 ** 31) - 5, max: -(2 ** 31) + 5 }),
      fc.integer({ min: 2 ** 31 - 5, max: 2 ** 31 + 5 }),
      fc.maxSafeInteger(),
      fc.double({ noNaN: true }),
      fc.boolean(),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ unit: 'grapheme', minLength: 3000, maxLength: 6000 }), // larger than the first scratch area
      fc.uint8Array({ maxLength: 40 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(value, { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 30 }), async (rows) => {
        const dbs = [new SQL.Database(), new SQL.Database()];
        const binder = fastBinder(dbs[1])!;
        assert.ok(binder, 'the C API is there to bind through');
        for (const [k, db] of dbs.entries()) {
          db.exec('CREATE TABLE t (a, b TEXT, c INTEGER, d REAL)');
          const stmt = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)');
          if (k === 1) assert.ok((statementPointer(db, stmt) ?? 0) > 0, 'the statement’s pointer is found: the C API path is the one tested');
          for (const row of rows) {
            const params = row as SqlValue[];
            if (k === 0) stmt.bind(params);
            else binder(stmt, params);
            stmt.step();
            stmt.reset();
          }
          stmt.free();
        }
        const read = (db: (typeof dbs)[number]) => db.exec('SELECT typeof(a), a, typeof(b), b, typeof(c), c, typeof(d), d FROM t ORDER BY rowid');
        assert.deepStrictEqual(read(dbs[1]), read(dbs[0]));
        assert.ok(Buffer.from(dbs[1].export()).equals(Buffer.from(dbs[0].export())));
        for (const db of dbs) db.close();
      }),
      { numRuns: 60 },
    );
  });

  it('lets sql.js refuse what it refuses, with its own message, a freed statement too', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.exec('CREATE TABLE t (a)');
    const stmt = db.prepare('INSERT INTO t VALUES (?)');
    const bind = fastBinder(db)!;
    assert.throws(() => bind(stmt, [undefined as unknown as SqlValue]), /Wrong API use/);
    bind(stmt, ['bound once']); // the pointer is found
    stmt.reset();
    stmt.free();
    assert.throws(() => bind(stmt, ['after free']), /Statement closed/, 'a freed statement is never bound through its old pointer');
    db.close();
  });
});
