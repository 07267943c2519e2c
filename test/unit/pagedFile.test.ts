// The owner's snapshot read page by page (pagedFile.ts): the same database as one read whole,
// the file on disk never written, memory held only for what was written, the file kept (by a
// second name) while the owner pages from it after a new snapshot replaced it, and removed
// when the owner stops; read in whole where it cannot be kept. The snapshot worker pages the
// same way and writes its snapshot from the pages: the same file as one exported.
import * as assert from 'assert';
import fc from 'fast-check';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Database } from 'sql.js';
import * as crypto from 'crypto';
import { readJournal } from '../../src/core/store/journal';
import { openPaged, PagedFile } from '../../src/core/store/pagedFile';
import { writeSnapshotFile } from '../../src/core/store/snapshotWorker';
import { loadSqlJs, sqlJsWasmPath } from '../../src/core/store/sqljs';
import { sdlcPaths } from '../../src/core/paths';
import { engine, readFolder, sleep, tmpWorkspace, verifyClean, waitFor } from './helpers';

describe('a snapshot read page by page', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdlc-paged-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A folder whose snapshot holds `actions` manual actions (written by an engine's stop), and its paths. */
  async function folderWithSnapshot(actions: number): Promise<{ ws: string; p: ReturnType<typeof sdlcPaths> }> {
    const ws = tmpWorkspace();
    const first = await engine(ws);
    for (let i = 0; i < actions; i++) await first.add({ name: `before-${i}`, trigger: { kind: 'manual' }, run: { command: `echo ${i}` } });
    await first.stop();
    return { ws, p: sdlcPaths(ws) };
  }

  async function seed(pageSize: number, rows: number): Promise<string> {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.exec(`PRAGMA page_size = ${pageSize}; CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL); CREATE INDEX t_body ON t(body)`);
    db.exec('BEGIN');
    for (let i = 0; i < rows; i++) db.run('INSERT INTO t (body) VALUES (?)', [`row ${i} ${'x'.repeat(i % 300)}`]);
    db.exec('COMMIT');
    const file = path.join(dir, `seed-${pageSize}-${rows}.db`);
    fs.writeFileSync(file, db.export());
    db.close();
    return file;
  }

  const grow = (db: Database): Uint8Array => {
    db.exec('BEGIN');
    for (let i = 0; i < 3000; i++) db.run('INSERT INTO t (body) VALUES (?)', [`more ${i} ${'é☃'.repeat(i % 200)}`]);
    db.run('DELETE FROM t WHERE id % 7 = 0 AND id > 3500');
    db.exec('COMMIT');
    db.exec('BEGIN');
    db.run('UPDATE t SET body = body || ? WHERE id % 500 = 0', ['never kept']);
    db.exec('ROLLBACK');
    return db.export();
  };

  for (const pageSize of [1024, 4096, 8192, 65536]) {
    it(`is the same database as one read whole, ${pageSize}-byte pages, and the file on disk is only read`, async () => {
      const SQL = await loadSqlJs();
      const file = await seed(pageSize, 4000);
      const onDisk = fs.readFileSync(file);
      const whole = new SQL.Database(fs.readFileSync(file));
      const opened = openPaged(file)!;
      const paged = new SQL.Database(opened.bytes);
      try {
        assert.strictEqual(paged.exec('PRAGMA integrity_check')[0].values[0][0], 'ok');
        assert.strictEqual(opened.paged.bytesInMemory, 0, 'reading kept nothing in memory');
        const expected = grow(whole);
        const bytes = grow(paged);
        assert.ok(Buffer.from(bytes).equals(Buffer.from(expected)), 'the same bytes as the copy read whole, after the same changes');
        assert.deepStrictEqual(paged.exec('SELECT count(*), sum(length(body)) FROM t'), whole.exec('SELECT count(*), sum(length(body)) FROM t'));
        assert.ok(opened.paged.reading, 'blocks never written are still read from the file');
        await opened.paged.release();
        assert.ok(!opened.paged.reading, 'released: the file is closed');
        fs.truncateSync(file, 0); // what shrinkAway does to a replaced snapshot
        assert.strictEqual(paged.exec('PRAGMA integrity_check')[0].values[0][0], 'ok');
        // (sql.js's first export after changes writes freed pages otherwise than the next: compare the next)
        assert.ok(Buffer.from(paged.export()).equals(Buffer.from(whole.export())), 'after release it no longer needs the file');
      } finally {
        paged.close();
        whole.close();
        opened.paged.dispose();
      }
      if (fs.statSync(file).size) assert.ok(fs.readFileSync(file).equals(onDisk));
    });
  }

  it('holds in memory only the blocks written: a read-mostly use of a large file stays small', async () => {
    const SQL = await loadSqlJs();
    const file = await seed(4096, 40_000);
    const size = fs.statSync(file).size;
    const opened = openPaged(file)!;
    const db = new SQL.Database(opened.bytes);
    try {
      assert.strictEqual(db.exec('SELECT count(*) FROM t')[0].values[0][0], 40_000);
      db.exec('BEGIN');
      for (let i = 0; i < 50; i++) db.run('INSERT INTO t (body) VALUES (?)', [`new ${i}`]);
      db.exec('COMMIT');
      const held = opened.paged.bytesInMemory;
      assert.ok(held > 0 && held < size / 20, `held ${held} of ${size} bytes`);
    } finally {
      db.close();
      opened.paged.dispose();
    }
  });

  it('reads and writes at any offset exactly as one array would, before, during and after release (property)', async () => {
    const diskSize = 3 * 4096 + 1234;
    const file = path.join(dir, 'raw.bin');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('read' as const), at: fc.nat(6 * 4096), length: fc.nat(70 * 1024) }),
      fc.record({ kind: fc.constant('write' as const), at: fc.nat(6 * 4096), bytes: fc.uint8Array({ minLength: 1, maxLength: 9000 }) }),
      fc.record({ kind: fc.constant('release' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: diskSize, maxLength: diskSize }), fc.array(op, { maxLength: 25 }), async (initial, ops) => {
        fs.writeFileSync(file, initial);
        const fd = fs.openSync(file, 'r');
        const paged = new PagedFile(file, fd, diskSize);
        const model = new Uint8Array(6 * 4096 + 70 * 1024 + 1);
        model.set(initial);
        try {
          for (const o of ops) {
            if (o.kind === 'read') {
              const got = paged.subarray(o.at, o.at + o.length);
              assert.ok(Buffer.from(got).equals(Buffer.from(model.subarray(o.at, o.at + o.length))), `read ${o.length} at ${o.at}`);
            } else if (o.kind === 'write') {
              paged.set(o.bytes, o.at);
              model.set(o.bytes, o.at);
            } else {
              const released = paged.release();
              paged.set(Uint8Array.of(7, 7, 7), 4090); // written while the rest is read in: the write wins
              model.set([7, 7, 7], 4090);
              await released;
              assert.ok(!paged.reading);
            }
          }
          const end = model.length - 1;
          assert.ok(Buffer.from(paged.subarray(0, end)).equals(Buffer.from(model.subarray(0, end))), 'the whole file');
          assert.ok(fs.readFileSync(file).equals(Buffer.from(initial)), 'the file on disk is only read');
        } finally {
          paged.dispose();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('says so when the file it reads from was cut short under it', () => {
    const file = path.join(dir, 'cut.bin');
    fs.writeFileSync(file, Buffer.alloc(5 * 4096, 1));
    const paged = new PagedFile(file, fs.openSync(file, 'r'), 5 * 4096);
    try {
      assert.strictEqual(paged.subarray(0, 10)[9], 1);
      fs.truncateSync(file, 4096);
      assert.throws(() => paged.subarray(3 * 4096, 3 * 4096 + 10), /cut short under it .*another process has replaced it/);
    } finally {
      paged.dispose();
    }
  });

  it('the owner keeps paging from the file it loaded after a worker snapshot replaced it, and removes it when it stops; nothing is lost', async function () {
    if (process.platform === 'win32') this.skip(); // read whole there
    const { ws, p } = await folderWithSnapshot(30); // writes the snapshot the next start pages in
    const dir = path.dirname(p.db);
    const loaded = fs.statSync(p.db).ino;
    const kept = (): string[] => fs.readdirSync(dir).filter((f) => f.endsWith('.old'));

    const inWorker = { maxJournalRecords: 20, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: 8, alwaysInWorker: true };
    const o = await engine(ws, { snapshotPolicy: inWorker });
    const db = (o as unknown as { db: { paged?: PagedFile; snapshotting: boolean } }).db;
    const paged = db.paged;
    assert.ok(paged?.reading, 'the owner reads its snapshot page by page');
    for (let i = 0; i < 30; i++) await o.add({ name: `after-${i}`, trigger: { kind: 'manual' }, run: { command: `echo ${i}` } });
    await waitFor(() => !db.snapshotting && fs.statSync(p.db).ino !== loaded, 10_000, 'a worker snapshot to replace the file');
    await waitFor(() => !db.snapshotting && kept().length === 1, 10_000, 'later snapshots to be shrunk away');
    assert.strictEqual(db.paged, paged, 'still paging from the file it loaded');
    assert.ok(paged.reading);
    assert.strictEqual(fs.statSync(path.join(dir, kept()[0])).ino, loaded, 'the one file kept is the one it loaded, whole');
    assert.ok(paged.bytesInMemory < fs.statSync(path.join(dir, kept()[0])).size, 'it holds in memory only what it wrote');
    const names = await readFolder(ws, (r) => r.store.allActions().map((a) => a.name));
    assert.strictEqual(names.length, 60);
    assert.strictEqual(o.listActions().length, 60);
    assert.ok(o.eventsSince(0, 1e6).length >= 60);
    await o.stop();
    assert.ok(!paged.reading, 'closed with the database');
    assert.deepStrictEqual(kept(), [], 'the file it kept is removed before stop() returns');
    await verifyClean(ws);
  });

  it('a snapshot written on the owner’s thread, which leaves the loaded file no name, has it read in and closed', async function () {
    if (process.platform === 'win32') this.skip();
    const { ws, p } = await folderWithSnapshot(10);
    const loaded = fs.statSync(p.db).ino;
    const o = await engine(ws, { snapshotPolicy: { maxJournalRecords: 5, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: 1e9 } });
    const db = (o as unknown as { db: { paged?: PagedFile } }).db;
    const paged = db.paged!;
    assert.ok(paged.reading);
    for (let i = 0; i < 10; i++) await o.add({ name: `after-${i}`, trigger: { kind: 'manual' }, run: { command: `echo ${i}` } });
    await waitFor(() => db.paged === undefined, 10_000, 'the loaded file read in');
    assert.ok(!paged.reading, 'closed');
    assert.notStrictEqual(fs.statSync(p.db).ino, loaded);
    if (fs.existsSync('/proc/self/fd')) {
      const open = fs.readdirSync('/proc/self/fd').flatMap((fd) => {
        try {
          return [fs.statSync(`/proc/self/fd/${fd}`).ino];
        } catch {
          return [];
        }
      });
      assert.ok(!open.includes(loaded), 'the replaced file is still held open');
    }
    assert.strictEqual(o.listActions().length, 20);
    await o.stop();
    await verifyClean(ws);
  });

  it('the snapshot worker, paging, writes from the pages the same file as one read whole and exported, and only reads the loaded one', async function () {
    const { ws, p } = await folderWithSnapshot(30); // the snapshot the worker loads
    const o = await engine(ws, { snapshotPolicy: { maxJournalRecords: 1e9, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: 1e9 } });
    for (let i = 0; i < 40; i++) {
      const { actions } = await o.add({ name: `after-${i}`, trigger: { kind: 'manual' }, run: { command: `echo ${'x'.repeat(i * 50)}` } });
      if (i % 3 === 0) await o.pauseAction(actions[0].id);
    }
    await o.cancel('before-3');
    const upTo = readJournal(p.journal).records.at(-1)!.n;
    const hash = (f: string): string => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');
    // export() copies the database with SQLite's backup API into a new file, whose change
    // counter (and the "valid for" number beside it) starts again at 1; the pages written as
    // they are keep the loaded file's, one more. Everything else is the same, byte for byte.
    const content = (f: string): string => {
      const bytes = fs.readFileSync(f);
      assert.strictEqual(bytes.readUInt32BE(24), bytes.readUInt32BE(92), `${f}: the header's size is valid`);
      bytes.fill(0, 24, 28);
      bytes.fill(0, 92, 96);
      return crypto.createHash('sha256').update(bytes).digest('hex');
    };
    const loaded = hash(p.db);
    const out: Record<string, string> = {};
    const direct = process.env.SDLC_SNAPSHOT_DIRECT;
    try {
      for (const paged of [true, false]) {
        for (const write of ['direct', 'buffered']) {
          if (write === 'buffered') process.env.SDLC_SNAPSHOT_DIRECT = 'off';
          else delete process.env.SDLC_SNAPSHOT_DIRECT;
          const tmp = path.join(dir, `worker-${paged}-${write}.db`);
          const reply = await writeSnapshotFile({ wasm: sqlJsWasmPath(), db: p.db, journal: p.journal, upTo, tmp, paged });
          assert.ok(reply.ok && reply.bytes === fs.statSync(tmp).size);
          out[`${paged ? 'paged' : 'whole'} ${write}`] = content(tmp);
        }
      }
    } finally {
      if (direct === undefined) delete process.env.SDLC_SNAPSHOT_DIRECT;
      else process.env.SDLC_SNAPSHOT_DIRECT = direct;
    }
    assert.strictEqual(new Set(Object.values(out)).size, 1, `one file, however written: ${JSON.stringify(out)}`);
    assert.strictEqual(hash(p.db), loaded, 'the loaded snapshot is only read');
    const SQL = await loadSqlJs();
    const written = new SQL.Database(fs.readFileSync(path.join(dir, 'worker-true-direct.db')));
    try {
      assert.strictEqual(written.exec('PRAGMA integrity_check')[0].values[0][0], 'ok');
      assert.strictEqual(Number(written.exec("SELECT value FROM meta WHERE key = 'journal_n'")[0].values[0][0]), upTo);
      assert.strictEqual(written.exec('SELECT count(*) FROM actions')[0].values[0][0], 70);
      assert.strictEqual(written.exec("SELECT count(*) FROM actions WHERE status = 'paused'")[0].values[0][0], 14);
    } finally {
      written.close();
    }
    await o.stop();
    await verifyClean(ws);
  });

  it('after a worker wrote a snapshot from its pages, the next one is a worker’s too: the owner never exports a database it judged too large', async function () {
    if (process.platform === 'win32') this.skip();
    const { ws, p } = await folderWithSnapshot(30);
    const size = fs.statSync(p.db).size;
    // An export of this size is estimated at size / 600,000 ms: over the limit, so in a worker.
    const cheapExportMs = size / 600_000 / 2;
    const said: string[] = [];
    const log = { trace() {}, debug: (m: string) => said.push(m), info() {}, warn() {}, error() {} };
    const o = await engine(ws, { log, snapshotPolicy: { maxJournalRecords: 5, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs } });
    const db = (o as unknown as { db: { paged?: PagedFile; snapshotting: boolean } }).db;
    const paged = db.paged!;
    const byWorker = (): number => said.filter((m) => /written by a worker/.test(m)).length;
    for (let i = 0; i < 30; i++) {
      await o.add({ name: `after-${i}`, trigger: { kind: 'manual' }, run: { command: `echo ${i}` } });
      await sleep(20);
      await waitFor(() => !db.snapshotting, 10_000, 'the snapshot under way');
    }
    assert.ok(byWorker() >= 3, `snapshots were written by workers (${byWorker()})`);
    assert.deepStrictEqual(said.filter((m) => /^snapshot written:/.test(m)), [], 'none on the owner’s thread');
    // A snapshot on the owner's thread would have had the loaded file read in and closed.
    assert.strictEqual(db.paged, paged, 'every snapshot was a worker’s: the owner still pages from the file it loaded');
    assert.ok(paged.reading);
    assert.strictEqual(o.listActions().length, 60);
    await o.stop();
    await verifyClean(ws);
  });

  it('a file kept that way and left by a killed owner is removed by the next one', async function () {
    if (process.platform === 'win32') this.skip();
    const ws = tmpWorkspace();
    const first = await engine(ws);
    await first.add({ name: 'one', trigger: { kind: 'manual' }, run: { command: 'echo 1' } });
    await first.stop();
    const p = sdlcPaths(ws);
    const dir = path.dirname(p.db);
    // What a kill leaves: the loaded snapshot under its second name beside a newer one.
    fs.linkSync(p.db, path.join(dir, `.${path.basename(p.db)}.99999.${Date.now()}.old`));
    const o = await engine(ws);
    assert.deepStrictEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.old')), []);
    assert.strictEqual(o.listActions().length, 1);
    await o.stop();
    await verifyClean(ws);
  });

});
