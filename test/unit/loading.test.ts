import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
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
