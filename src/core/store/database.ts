// Durability: `.sdlc/orchestrator.db` is the latest snapshot (always a valid SQLite file),
// `.sdlc/orchestrator.journal` holds every transaction committed since. Loading replays the
// journal onto the snapshot; committing appends one fsynced line; snapshots are written
// atomically now and then and empty the journal. The cost of a commit does not grow with
// the database; the cost of a snapshot does, so a snapshot of a database that takes more
// than a few milliseconds to export is written by a worker thread (snapshotWorker.ts) from
// the snapshot and the journal on disk, while this thread goes on committing.
import * as fs from 'fs';
import * as path from 'path';
import type { Database, SqlJsStatic } from 'sql.js';
import { Worker } from 'worker_threads';
import { fsyncDirAsync, renameWithRetryAsync, writeFileAtomic } from './atomicFile';
import type { Epoch } from '../epoch';
import { readJournal, readingJournal, JournalWriter, type JournalRead, type JournalRecord } from './journal';
import type { Logger } from '../log';
import { ensureSdlcDir, type SdlcPaths } from '../paths';
import type { CheckpointUse } from './checkpoint';
import { fastBinder } from './fastBind';
import { LastStateReplay } from './lastStateReplay';
import { migrate } from './schema';
import type { SnapshotJob, SnapshotReply } from './snapshotWorker';
import { openPaged, type PagedFile } from './pagedFile';
import { readDatabaseFile, readDatabaseFileAsync, sqlJsWasmPath } from './sqljs';
import { Store } from './store';

/** Beside this file in out/ and in the bundle (dist/snapshotWorker.js). */
const SNAPSHOT_WORKER = path.join(__dirname, 'snapshotWorker.js');

/**
 * Whether the owner reads its snapshot page by page (pagedFile.ts). `SDLC_PAGED_SNAPSHOT=off`
 * reads it whole, as readers always do (a reader reloads when the owner replaces the file,
 * and the owner shrinks the replaced file away under it).
 */
const PAGED = process.platform !== 'win32' && process.env.SDLC_PAGED_SNAPSHOT !== 'off';

export class CorruptDatabaseError extends Error {
  constructor(
    readonly file: string,
    override readonly cause: unknown,
  ) {
    super(
      `the database ${file} cannot be read (${(cause as Error)?.message ?? cause}); ` +
        'start the orchestrator ("sdlc-orchestrator run" or VS Code) to move it aside and start afresh, or restore it from a backup',
    );
    this.name = 'CorruptDatabaseError';
  }
}

export interface SnapshotPolicy {
  /** Snapshot once the journal holds this many records or bytes. */
  maxJournalRecords: number;
  maxJournalBytes: number;
  /** When idle this long, snapshot if the last export was cheap (small databases stay current on disk). */
  idleMs: number;
  /**
   * An export expected to take at most this long is done on this thread (well under the 20 ms
   * a stall may last); a longer one in a worker thread, and never when idle.
   */
  cheapExportMs: number;
  /** Every snapshot outside start-up in a worker thread, however small (the crash tests). */
  alwaysInWorker?: boolean;
  /**
   * Between snapshots, a worker writes a checkpoint (checkpoint.ts) once the journal holds this
   * many records it does not cover, so that a start after a crash replays at most about this
   * many. Default DEFAULT_CHECKPOINT_RECORDS; 0 writes none.
   */
  checkpointRecords?: number;
}

/**
 * A start replays at most about this many records (while a worker keeps up): at 100k history
 * rows, 500 records are 15–20 ms of replay, and a checkpoint of them takes its worker 40–60 ms.
 */
export const DEFAULT_CHECKPOINT_RECORDS = 500;
/**
 * No commit for this long is a quiet moment for a checkpoint. In a burst every tick commits, and
 * a checkpoint's worker, however low its priority, takes CPU the burst's shells would use: 10,000
 * runs due at once took about 3 % longer with three checkpoints written meanwhile.
 */
const CHECKPOINT_QUIET_MS = 100;

export const DEFAULT_SNAPSHOT_POLICY: SnapshotPolicy = {
  maxJournalRecords: 5000,
  maxJournalBytes: 8 * 1024 * 1024,
  idleMs: 2000,
  cheapExportMs: 8,
};

function stamp(now: number): string {
  return new Date(now).toISOString().replace(/[:.]/g, '-');
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

const FULL_CHECK_MAX_BYTES = 32 * 1024 * 1024;

/** Opens the snapshot read from `file` (undefined: there is none); throws CorruptDatabaseError if it is not a database we can use. */
function openSnapshot(SQL: SqlJsStatic, file: string, bytes: Uint8Array | undefined): { db: Database; existed: boolean } {
  if (!bytes) return { db: new SQL.Database(), existed: false };
  if (bytes.length === 0) throw new CorruptDatabaseError(file, new Error('the file is empty'));
  const db = new SQL.Database(bytes);
  try {
    // A full check reads every page: ~170 ms at 45 MB. Above this size only the header and the
    // schema are checked at start; damage deeper in surfaces as a query error on the tick.
    if (bytes.length <= FULL_CHECK_MAX_BYTES) {
      const check = db.exec('PRAGMA quick_check');
      const verdict = check[0]?.values[0]?.[0];
      if (verdict !== 'ok') throw new Error(`integrity check: ${verdict}`);
    }
    const tables = db.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'actions', 'runs', 'events')");
    if ((tables[0]?.values.length ?? 0) !== 4) throw new Error('it is a SQLite file but not an orchestrator database');
  } catch (err) {
    db.close();
    throw new CorruptDatabaseError(file, err);
  }
  return { db, existed: true };
}

export interface OpenOptions {
  mode: 'owner' | 'reader';
  /** The owner's fencing token: checked around every journal append and before a snapshot replaces the file. */
  epoch?: Epoch;
  log: Logger;
  now: () => number;
  snapshotPolicy?: SnapshotPolicy;
}

export class DurableDatabase {
  /** Problems found while loading, said to the user (a moved-aside file, a damaged journal). */
  readonly warnings: string[] = [];
  /** Set when loading found the journal damaged (in either mode): what `verify` reports it could not read. */
  loadDamage: string | undefined;
  /** The last record of the checkpoint the load laid over the snapshot (checkpoint.ts); undefined when it used none. */
  loadedCheckpoint: number | undefined;
  private journal: JournalWriter | undefined;
  private journalN = 0;
  /** Commits made through this object: what was read from the database is current while it stays the same. */
  private commits = 0;
  private readOffset = 0;
  private lastCommitAt = 0;
  private lastSnapshotAt = 0;
  private lastExportMs = 0;
  /** The last record the files on disk hold without the journal: the checkpoint's, else the snapshot's. */
  private checkpointN = 0;
  /** Where the records after checkpointN begin in the journal file (0: not known, read it all). */
  private checkpointOffset = 0;
  private readonly policy: SnapshotPolicy;
  /** The snapshot a worker is writing; none is started while one is. */
  private background: Promise<void> | undefined;
  /** The replaced snapshot being freed in small steps (see shrinkAway). */
  private shrinking: Promise<void> | undefined;
  /** A worker could not be started here (a missing file): snapshots go back to this thread. */
  private workerBroken = false;
  /** The owner's snapshot, while any of it is still read from the file it was loaded from. */
  private paged: PagedFile | undefined;
  /**
   * That file's name once a worker's snapshot has replaced it: it is kept, under the second
   * name the replacement gave it, for as long as this owner has the database open, and shrunk
   * away when it closes (or removed by the next owner, after a crash).
   */
  private pagedFrom: string | undefined;
  /** That file, being read in whole where it could not be kept (see releasePaged). */
  private releasing: Promise<void> | undefined;
  /** The kept file being shrunk away after close. */
  private removingKept: Promise<void> | undefined;

  private constructor(
    private readonly SQL: SqlJsStatic,
    readonly paths: SdlcPaths,
    public store: Store,
    private readonly opts: OpenOptions,
  ) {
    this.policy = opts.snapshotPolicy ?? DEFAULT_SNAPSHOT_POLICY;
  }

  /** Opens the database for reading (a follower, the CLI's read-only commands). */
  static open(SQL: SqlJsStatic, paths: SdlcPaths, opts: OpenOptions): DurableDatabase {
    if (opts.mode !== 'reader') throw new Error('an owner opens the database with DurableDatabase.openOwner');
    const self = new DurableDatabase(SQL, paths, undefined as unknown as Store, opts);
    self.load();
    return self;
  }

  /**
   * DurableDatabase.open for a follower that must not hold its thread: the journal is read
   * first, then the snapshot (on libuv's threads), and the replay goes in slices with turns of
   * the event loop between. Read in that order (as load() does), a snapshot the owner replaces
   * meanwhile is newer than the journal's start, and its records are skipped, never missing.
   */
  static async openReader(SQL: SqlJsStatic, paths: SdlcPaths, opts: OpenOptions): Promise<DurableDatabase> {
    if (opts.mode !== 'reader') throw new Error('an owner opens the database with DurableDatabase.openOwner');
    const self = new DurableDatabase(SQL, paths, undefined as unknown as Store, opts);
    self.noteSnapshot();
    const journal = await inSlices(readingJournal(paths.journal));
    const use: CheckpointUse = { file: paths.checkpoint };
    const bytes = await readDatabaseFileAsync(paths.db, 2 * journal.bytes.length, use);
    await turnOfTheLoop();
    let opened: { db: Database; existed: boolean };
    try {
      opened = openSnapshot(SQL, paths.db, bytes);
    } catch (err) {
      if (!self.checkpointUnreadable(err, use)) throw err;
      self.load(false);
      return self;
    }
    const { db, existed } = opened;
    try {
      await turnOfTheLoop();
      migrate(db);
      self.store = new Store(db, fastBinder(db));
    } catch (err) {
      db.close();
      throw err;
    }
    if (existed) self.journalN = Number(self.store.getMeta('journal_n') ?? 0);
    if (!self.checkpointHolds(use)) {
      self.load(false);
      return self;
    }
    self.loadedCheckpoint = use.upTo;
    const read = await self.replayNewInSlices(journal);
    if (existed) self.noteDamage(read);
    return self;
  }

  /** Opens the database for writing, with the owner's epoch. */
  static async openOwner(SQL: SqlJsStatic, paths: SdlcPaths, opts: OpenOptions): Promise<DurableDatabase> {
    if (opts.mode !== 'owner') throw new Error('a reader opens the database with DurableDatabase.open');
    ensureSdlcDir(paths);
    const self = new DurableDatabase(SQL, paths, undefined as unknown as Store, opts);
    try {
      await self.loadOwner();
    } catch (err) {
      self.paged?.dispose();
      throw err;
    }
    return self;
  }

  private loadedSnapshot = '';

  private noteSnapshot(): void {
    this.loadedSnapshot = this.snapshotIdentity();
    // Until a snapshot is timed, estimate its cost from the file size.
    this.lastExportMs = estimatedExportMs(Number(this.loadedSnapshot.split(':')[2]) || 0);
  }

  /** A reader's load (and reload, when the owner replaced the snapshot). */
  private load(withCheckpoint = true): void {
    this.noteSnapshot();
    // The journal first, as openReader reads it.
    const journal = readJournal(this.paths.journal);
    const use: CheckpointUse | undefined = withCheckpoint ? { file: this.paths.checkpoint } : undefined;
    let opened: { db: Database; existed: boolean };
    try {
      opened = openSnapshot(this.SQL, this.paths.db, readDatabaseFile(this.paths.db, 2 * journal.bytes.length, use));
    } catch (err) {
      if (!this.checkpointUnreadable(err, use)) throw err;
      return this.load(false);
    }
    const { db, existed } = opened;
    migrate(db);
    this.store = new Store(db, fastBinder(db));
    if (existed) this.journalN = Number(this.store.getMeta('journal_n') ?? 0);
    if (!this.checkpointHolds(use)) return this.load(false);
    this.loadedCheckpoint = use?.upTo;
    const read = this.replayNew(journal);
    if (existed) this.noteDamage(read);
  }

  /**
   * Whether `err`, from opening the snapshot with a checkpoint laid over it, is the database
   * being unreadable: never expected (its blocks are SQLite's own, checksummed), but if so the
   * checkpoint is passed over, said, and the snapshot opened alone, rather than the snapshot
   * taken for damaged and moved aside.
   */
  private checkpointUnreadable(err: unknown, use: CheckpointUse | undefined): boolean {
    if (!(err instanceof CorruptDatabaseError) || use?.upTo === undefined) return false;
    this.opts.log.warn(`the database with the checkpoint ${path.basename(this.paths.checkpoint)} laid over could not be read (${(err.cause as Error)?.message ?? err.cause}); the checkpoint was passed over and the journal replayed`);
    return true;
  }

  /**
   * Whether the checkpoint laid over the snapshot (if any) holds the record it names; never
   * expected to fail, but if it did, the database just opened is closed and the caller loads
   * again without it (the journal holds everything the checkpoint did).
   */
  private checkpointHolds(use: CheckpointUse | undefined): boolean {
    if (use?.upTo === undefined || this.journalN === use.upTo) return true;
    this.opts.log.warn(`the checkpoint ${path.basename(this.paths.checkpoint)} says it holds record ${use.upTo} but holds ${this.journalN}; it was passed over and the journal replayed`);
    this.store.close();
    this.paged?.dispose();
    this.paged = undefined;
    this.journalN = 0;
    return false;
  }

  /** What `verify` reports it could not read, from a load's replay. */
  private noteDamage(read: Replayed): void {
    this.loadDamage = read.damaged ? `the journal is damaged (${read.damage}); ${read.badBytes} byte(s) after record ${this.journalN} cannot be used` : undefined;
  }

  /**
   * The owner's load. Two things run on libuv's threads while this one works: reading the
   * snapshot, while this thread reads and checks the journal; and writing the journal's good
   * records to the owner's own journal file (see JournalWriter.prepare), while this thread
   * applies them. At 100k history rows and a 4,999-record journal that was 90 ms of the start.
   */
  private async loadOwner(): Promise<void> {
    const { paths, opts } = this;
    const epoch = opts.epoch;
    if (!epoch) throw new Error('an owner opens the database with its epoch');
    this.noteSnapshot();
    // Paged where a file renamed over stays readable through a descriptor held open; on
    // Windows, read whole (on libuv's threads, while this one reads the journal).
    let use: CheckpointUse | undefined = { file: paths.checkpoint };
    let paged = PAGED ? openPaged(paths.db, use) : undefined;
    const bytes = PAGED ? Promise.resolve(paged?.bytes) : readDatabaseFileAsync(paths.db, 2 * fileSize(paths.journal), use);
    let journal: JournalRead;
    try {
      journal = await inSlices(readingJournal(paths.journal));
    } catch (err) {
      await bytes.catch(() => undefined);
      paged?.paged.dispose();
      throw err;
    }
    let db: Database;
    let existed: boolean;
    let fresh = false;
    try {
      await turnOfTheLoop(); // between reading the journal and opening the snapshot
      try {
        ({ db, existed } = openSnapshot(this.SQL, paths.db, await bytes));
      } catch (err) {
        if (!this.checkpointUnreadable(err, use)) throw err;
        paged?.paged.dispose();
        use = undefined;
        paged = PAGED ? openPaged(paths.db) : undefined;
        ({ db, existed } = openSnapshot(this.SQL, paths.db, PAGED ? paged?.bytes : readDatabaseFile(paths.db, 2 * journal.bytes.length)));
      }
      this.paged = paged?.paged;
    } catch (err) {
      paged?.paged.dispose();
      if (!(err instanceof CorruptDatabaseError)) throw err;
      // Never overwrite what we cannot read: move it (and its journal) aside, say so, start afresh.
      const aside = `${paths.db}.corrupt-${stamp(opts.now())}`;
      fs.renameSync(paths.db, aside);
      if (fs.existsSync(paths.journal)) fs.renameSync(paths.journal, `${aside}.journal`);
      this.warnings.push(
        `The database ${path.relative(paths.workspace, paths.db)} could not be read (${(err.cause as Error)?.message ?? err.cause}). ` +
          `It was moved to ${path.relative(paths.workspace, aside)} and the orchestrator started with an empty database. ` +
          'Your earlier actions are in that file; open it with sqlite3 to recover them.',
      );
      db = new this.SQL.Database();
      existed = false;
      fresh = true;
      journal = readJournal(paths.journal); // moved aside with it: nothing
    }
    await turnOfTheLoop(); // between opening the snapshot and getting it ready
    let migrated = migrate(db);
    this.store = new Store(db, fastBinder(db));
    this.journalN = Number(this.store.getMeta('journal_n') ?? 0);
    if (!this.checkpointHolds(use)) {
      // Never expected (see checkpointHolds): the snapshot alone, read whole on this thread.
      use = undefined;
      paged = undefined;
      ({ db, existed } = openSnapshot(this.SQL, paths.db, readDatabaseFile(paths.db, 2 * journal.bytes.length)));
      migrated = migrate(db);
      this.store = new Store(db, fastBinder(db));
      this.journalN = Number(this.store.getMeta('journal_n') ?? 0);
    }
    if (use?.problem) opts.log.info(`the checkpoint ${path.basename(paths.checkpoint)} was passed over: ${use.problem}; the journal is replayed instead`);
    this.loadedCheckpoint = use?.upTo;
    this.checkpointN = this.journalN;
    this.removeLeftoverTemps(); // before the journal's own temp file is made
    const prepared = JournalWriter.prepare(paths.journal, journal.bytes.subarray(0, journal.goodBytes), journal.records.length);
    let read: Replayed;
    try {
      await turnOfTheLoop(); // between opening the snapshot and replaying the journal
      read = await this.replayNewInSlices(journal);
    } catch (err) {
      (await prepared.catch(() => undefined))?.discard();
      throw err;
    }
    this.noteDamage(read);
    if (read.damaged) {
      // Acknowledged work may be in what could not be read: never discard it without a copy.
      const aside = `${paths.journal}.damaged-${stamp(opts.now())}`;
      try {
        fs.copyFileSync(paths.journal, aside);
      } catch (err) {
        (await prepared.catch(() => undefined))?.discard();
        throw err;
      }
      this.warnings.push(
        `The journal ${path.relative(paths.workspace, paths.journal)} is damaged (${read.damage}): ` +
          `${read.badBytes} byte(s) after record ${this.journalN} could not be used, so changes recorded there are missing. ` +
          `The orchestrator kept everything before that and saved the whole journal to ${path.relative(paths.workspace, aside)}.`,
      );
    } else if (read.badBytes > 0) {
      opts.log.info(`ignored a torn last journal record (${read.badBytes} bytes, never acknowledged) left by a crash`);
    }
    this.journal = (await prepared).install(() => epoch.check());
    // After damage, a snapshot holds everything that applied and empties the journal, so
    // new records never land behind records that can no longer be replayed.
    if (fresh || migrated || !existed || read.damaged) this.snapshot();
  }

  /**
   * Applies journal records not yet in the database, in one transaction (fast), stopping at
   * the first record that does not follow on or fails to apply.
   */
  private replayNew(read: JournalRead): Replayed {
    const plan = this.recordsToApply(read);
    return this.replayed(read, plan, plan.apply.length ? this.applyRecords(plan.apply) : 0);
  }

  /** replayNew for the owner's load, giving the event loop a turn between slices of the replay. */
  private async replayNewInSlices(read: JournalRead): Promise<Replayed> {
    const plan = this.recordsToApply(read);
    return this.replayed(read, plan, plan.apply.length ? await this.applyRecordsInSlices(plan.apply) : 0);
  }

  /** The records of `read` that follow on from the database, up to a gap (damage: what follows it cannot be applied safely). */
  private recordsToApply(read: JournalRead): { apply: JournalRecord[]; damaged: boolean; damage?: string } {
    let damage = read.damage;
    const apply: JournalRecord[] = [];
    let expected = this.journalN + 1;
    let damaged = read.damaged;
    for (const rec of read.records) {
      if (rec.n < expected) continue; // already in the snapshot
      if (rec.n !== expected) {
        damaged = true;
        damage = `record ${expected} is missing; record ${rec.n} follows record ${expected - 1}`;
        break;
      }
      apply.push(rec);
      expected++;
    }
    return { apply, damaged, damage };
  }

  private replayed(read: JournalRead, plan: { apply: JournalRecord[]; damaged: boolean; damage?: string }, applied: number): Replayed {
    let { damaged, damage } = plan;
    if (applied < plan.apply.length) {
      damaged = true;
      damage = `record ${plan.apply[applied].n} does not apply to the database`;
    }
    this.readOffset = read.goodBytes;
    return { goodBytes: read.goodBytes, badBytes: read.badBytes, damaged, damage, records: read.records.length, applied };
  }

  /**
   * Applies `batch` in one transaction (fast), stopping after each record: the caller decides
   * whether the event loop gets a turn there. Throws, having rolled back, if a record fails.
   */
  private *applying(batch: JournalRecord[]): Generator<void, void, undefined> {
    const { db } = this.store;
    db.exec('BEGIN');
    try {
      const last = batch[batch.length - 1];
      const replay = new LastStateReplay((name, params) => this.store.execute(name, params));
      for (const rec of batch) {
        for (const op of rec.ops) {
          // Every record sets journal_n to its own number; in one transaction only the last counts.
          if (rec !== last && op[0] === 'setMeta' && op[1][0] === 'journal_n') continue;
          replay.apply(op);
        }
        yield;
      }
      replay.flush();
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    this.journalN = batch[batch.length - 1].n;
  }

  private applyRecords(records: JournalRecord[]): number {
    try {
      toEnd(this.applying(records));
      return records.length;
    } catch {
      return this.applyOneByOne(records);
    }
  }

  /**
   * applyRecords in slices (see inSlices): in one go, replaying a 4,999-record journal held
   * the extension host's thread for 150–250 ms at start-up. The database is not in use
   * before the load ends, so nothing sees the open transaction.
   */
  private async applyRecordsInSlices(records: JournalRecord[]): Promise<number> {
    try {
      await inSlices(this.applying(records));
      return records.length;
    } catch {
      return this.applyOneByOne(records);
    }
  }

  /** Rare: a record that does not apply. Keeps every record before it, one at a time. */
  private applyOneByOne(records: JournalRecord[]): number {
    let good = 0;
    for (const rec of records) {
      try {
        toEnd(this.applying([rec]));
      } catch (e) {
        this.opts.log.error(`journal record ${rec.n} cannot be applied; it and later records are ignored`, e);
        break;
      }
      good++;
    }
    return good;
  }

  /**
   * Makes the open transaction durable: one journal line, one fsync, then COMMIT. If the
   * journal cannot be written, the transaction is rolled back and the error thrown, so
   * nothing is dispatched that is not on disk.
   */
  commit(): boolean {
    const { store } = this;
    if (!store.inTransaction) return false;
    if (store.pendingOps().length === 0) {
      store.rollback(); // a transaction that changed nothing needs no journal line
      return false;
    }
    if (!this.journal) throw new Error('this database is open for reading only');
    const epoch = this.opts.epoch!;
    const n = this.journalN + 1;
    try {
      epoch.check(); // a stale owner writes nothing
      store.setMeta('journal_n', String(n));
      this.journal.append({ n, e: epoch.value, ops: store.pendingOps() });
      // Taken over while appending? The record went to a journal the new owner replaced, or
      // the new owner read it; either way this process must not act on it.
      epoch.check();
    } catch (err) {
      store.rollback();
      throw err;
    }
    store.commit();
    this.journalN = n;
    this.commits++;
    this.lastCommitAt = this.opts.now();
    return true;
  }

  get commitCount(): number {
    return this.commits;
  }

  rollback(): void {
    this.store.rollback();
  }

  /** Writes the whole database atomically and empties the journal, on this thread. Never inside a transaction. */
  snapshot(): void {
    if (!this.journal) return;
    if (this.store.inTransaction) throw new Error('snapshot inside an open transaction');
    if (this.background) throw new Error('snapshot while a worker writes one');
    const started = performance.now();
    const bytes = this.store.db.export();
    const epoch = this.opts.epoch!;
    writeFileAtomic(this.paths.db, bytes, undefined, () => epoch.check());
    // The file this owner still pages from, if it was the one replaced, now has no name:
    // read in (a snapshot made on this thread is small) so that it can be freed.
    if (!this.pagedFrom) void this.releasePaged();
    this.journal.reset();
    this.checkpointStale(this.journalN);
    this.lastExportMs = performance.now() - started;
    this.lastSnapshotAt = this.opts.now();
    this.opts.log.debug(`snapshot written: ${bytes.length} bytes in ${this.lastExportMs.toFixed(1)} ms`);
  }

  /** Called between ticks: snapshot when the journal is long, or when idle and cheap; else a checkpoint when one is due. */
  maybeSnapshot(now: number): boolean {
    const j = this.journal;
    if (!j || j.recordCount === 0 || this.store.inTransaction || this.background) return false;
    const cheap = this.lastExportMs <= this.policy.cheapExportMs && !this.policy.alwaysInWorker;
    const long = j.recordCount >= this.policy.maxJournalRecords || j.bytes >= this.policy.maxJournalBytes;
    const idleAndCheap = cheap && now - this.lastCommitAt >= this.policy.idleMs && now - this.lastSnapshotAt >= this.policy.idleMs;
    if (!long && !idleAndCheap) {
      // Not a snapshot's turn: a checkpoint's, once the journal holds enough records no file on
      // disk covers, at a quiet moment; while the engine commits without a pause (a burst of
      // runs), only once it is four times as far behind.
      const every = this.policy.checkpointRecords ?? DEFAULT_CHECKPOINT_RECORDS;
      const behind = this.journalN - this.checkpointN;
      const quiet = now - this.lastCommitAt >= CHECKPOINT_QUIET_MS;
      if (PAGED && every > 0 && !this.workerBroken && behind >= every && (quiet || behind >= 4 * every)) void this.checkpointInWorker();
      return false;
    }
    if (cheap || this.workerBroken) this.snapshot();
    else this.snapshotInWorker();
    return true;
  }

  /** Whether a worker is writing a snapshot now. */
  get snapshotting(): boolean {
    return this.background !== undefined;
  }

  /**
   * Before the owner lets go: waits for a snapshot being written, then writes one if the
   * journal holds anything (in a worker when it is not cheap), so the next start replays little.
   */
  async flush(): Promise<void> {
    await this.background;
    await this.releasing;
    await this.shrinking;
    const j = this.journal;
    if (!j || j.recordCount === 0 || this.store.inTransaction) return;
    if (this.lastExportMs <= this.policy.cheapExportMs || this.workerBroken) this.snapshot();
    else await this.snapshotInWorker();
    await this.shrinking; // the snapshot it replaced, freed before the owner lets go
  }

  /**
   * Starts a worker that writes the database as of the last commit to a temp file; when it is
   * done, the file replaces the snapshot (after the fencing check) and the journal drops the
   * records it holds. Commits go on meanwhile; they stay in the journal. Failing leaves the
   * snapshot and the journal as they were (and a worker that cannot start at all sends the
   * next snapshots back to this thread).
   */
  snapshotInWorker(): Promise<void> {
    const journal = this.journal;
    if (this.background || !journal) return this.background ?? Promise.resolve();
    if (this.store.inTransaction) throw new Error('snapshot inside an open transaction');
    const epoch = this.opts.epoch!;
    const upTo = this.journalN;
    const offset = journal.bytes;
    const records = journal.recordCount;
    const tmp = path.join(path.dirname(this.paths.db), `.${path.basename(this.paths.db)}.${process.pid}.${Date.now()}.tmp`);
    const job: SnapshotJob = { wasm: sqlJsWasmPath(), db: this.paths.db, journal: this.paths.journal, upTo, tmp, paged: PAGED, checkpoint: this.paths.checkpoint, checkpointOffset: this.checkpointOffset };
    return this.inBackground('snapshot', job, async (reply) => {
      epoch.check();
      // The old snapshot keeps a second name, so the rename does not free its blocks at
      // once: freeing 270 MB in one go held the owner's next journal fsync for 30 ms. It is
      // shrunk away in small steps afterwards (and removed by the next owner after a crash).
      const old = linkAside(this.paths.db);
      await renameWithRetryAsync(tmp, this.paths.db);
      await fsyncDirAsync(path.dirname(this.paths.db));
      if (this.paged?.reading && !this.pagedFrom && old) {
        // The replaced file is the one this owner pages from: it keeps it, by its second name.
        this.pagedFrom = old;
      } else {
        if (!this.pagedFrom) void this.releasePaged(); // replaced without a second name: read in, so it can be freed
        if (old) this.shrinking = shrinkAway(old).finally(() => (this.shrinking = undefined));
      }
      // A worker that wrote from its pages did not export: what an export would take is estimated.
      this.lastExportMs = reply.exportMs ?? estimatedExportMs(reply.bytes);
      this.lastSnapshotAt = this.opts.now();
      this.checkpointStale(upTo);
      this.opts.log.debug(`snapshot of record ${upTo} replaced the database; the journal drops what it holds`);
      await journal.dropBefore(offset, records, () => epoch.check());
    });
  }

  /**
   * Starts a worker that writes a checkpoint of the database as of the last commit (see
   * checkpoint.ts): the snapshot's blocks the records since changed, to a temp file renamed
   * over the last checkpoint. Commits go on meanwhile. Failing leaves the checkpoint on disk as
   * it was; nothing is lost either way, the journal holds every record until a snapshot.
   */
  checkpointInWorker(): Promise<void> {
    const journal = this.journal;
    if (this.background || !journal) return this.background ?? Promise.resolve();
    if (this.store.inTransaction) throw new Error('checkpoint inside an open transaction');
    const epoch = this.opts.epoch!;
    const upTo = this.journalN;
    const offset = journal.bytes;
    const { checkpoint } = this.paths;
    const tmp = path.join(path.dirname(checkpoint), `.${path.basename(checkpoint)}.${process.pid}.${Date.now()}.tmp`);
    const job: SnapshotJob = { wasm: sqlJsWasmPath(), db: this.paths.db, journal: this.paths.journal, upTo, tmp, paged: true, checkpoint, write: 'checkpoint', checkpointOffset: this.checkpointOffset };
    return this.inBackground('checkpoint', job, async () => {
      epoch.check();
      await renameWithRetryAsync(tmp, checkpoint);
      await fsyncDirAsync(path.dirname(checkpoint));
      this.checkpointN = upTo;
      this.checkpointOffset = offset;
    });
  }

  /**
   * Runs `job` in a worker as the one job in the background, then `done` with its reply, if this
   * database is still open. Failing removes its temp file and is said in the log; the journal
   * keeps everything either way.
   */
  private inBackground(what: 'snapshot' | 'checkpoint', job: SnapshotJob, done: (reply: Extract<SnapshotReply, { ok: true }>) => Promise<void>): Promise<void> {
    const journal = this.journal;
    const started = performance.now();
    this.opts.log.debug(`${what} of record ${job.upTo} started in a worker`);
    const work = runSnapshotWorker(job)
      .then(async (reply) => {
        if (this.journal !== journal) throw new Error(`the database was closed while its ${what} was written`);
        await done(reply);
        this.opts.log.debug(`${what} of record ${job.upTo} written by a worker: ${reply.bytes} bytes in ${(performance.now() - started).toFixed(1)} ms`);
      })
      .catch((err: unknown) => {
        fs.rmSync(job.tmp, { force: true });
        if ((err as { workerNotStarted?: boolean }).workerNotStarted) this.workerBroken = true;
        this.checkpointOffset = 0; // the next worker reads the whole journal
        if (this.journal === journal) this.opts.log.warn(`a ${what} could not be written (the journal keeps everything): ${(err as Error)?.message ?? err}`);
      })
      .finally(() => {
        this.background = undefined;
      });
    this.background = work;
    return work;
  }

  /** A snapshot holding record `upTo` replaced the one the checkpoint was made on: the checkpoint no longer applies. */
  private checkpointStale(upTo: number): void {
    this.checkpointN = upTo;
    this.checkpointOffset = 0; // the journal drops what the snapshot holds: its offsets change
    // Passed over by any load from now on (it names the replaced snapshot); removed to free its space.
    try {
      fs.rmSync(this.paths.checkpoint, { force: true });
    } catch {
      // a file that cannot be removed now is passed over all the same, and replaced by the next checkpoint
    }
  }

  /** Temp files of snapshots and journals cut off by a crash; only an owner (holding the lease) removes them. */
  private removeLeftoverTemps(): void {
    const dir = path.dirname(this.paths.db);
    const snapshotTmp = new RegExp(`^\\.${escapeRe(path.basename(this.paths.db))}\\.\\d+\\.\\d+\\.(tmp|old)$`);
    const journalTmp = new RegExp(`^${escapeRe(path.basename(this.paths.journal))}\\.\\d+\\.new$`);
    const checkpointTmp = new RegExp(`^\\.${escapeRe(path.basename(this.paths.checkpoint))}\\.\\d+\\.\\d+\\.tmp$`);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const name of names) {
      if (snapshotTmp.test(name) || journalTmp.test(name) || checkpointTmp.test(name)) fs.rmSync(path.join(dir, name), { force: true });
    }
  }

  /**
   * A reader catches up with what the owner committed since it last looked. Returns true if
   * anything changed. When the owner has written a new snapshot in between, reloads it here,
   * or, with `inPlace: false`, says 'replaced' and leaves that to the caller (openReader).
   */
  refresh(options: { inPlace: false }): boolean | 'replaced';
  refresh(options?: { inPlace: true }): boolean;
  refresh({ inPlace = true }: { inPlace?: boolean } = {}): boolean | 'replaced' {
    if (this.opts.mode !== 'reader') return false;
    if (this.snapshotIdentity() !== this.loadedSnapshot) return inPlace ? this.reload() : 'replaced';
    let size = 0;
    try {
      size = fs.statSync(this.paths.journal).size;
    } catch {
      // no journal yet
    }
    if (size === this.readOffset) return false;
    if (size < this.readOffset) return this.reload();
    const before = this.journalN;
    const read = this.replayNew(readJournal(this.paths.journal, this.readOffset));
    if (read.damaged) return this.reload();
    return this.journalN !== before; // nothing new but a partial line: the owner is mid-write
  }

  private snapshotIdentity(): string {
    try {
      const st = fs.statSync(this.paths.db);
      return `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      return 'none';
    }
  }

  private reload(): boolean {
    this.store.close();
    this.readOffset = 0;
    this.journalN = 0;
    this.load();
    return true;
  }

  close(options: { snapshot: boolean } = { snapshot: true }): void {
    try {
      // With a worker's snapshot in flight, the journal keeps everything (its result is dropped).
      if (options.snapshot && this.journal && this.journal.recordCount > 0 && !this.background) this.snapshot();
    } finally {
      this.journal?.close();
      this.journal = undefined;
      this.store.close();
      this.paged?.dispose();
      this.paged = undefined;
      const kept = this.pagedFrom;
      this.pagedFrom = undefined;
      // In steps, as a replaced snapshot always is (see closed); a process that exits first leaves it to the next owner.
      if (kept) this.removingKept = shrinkAway(kept);
    }
  }

  /** After close: resolves once the replaced snapshot this owner kept to page from is gone from the disk. */
  async closed(): Promise<void> {
    await this.removingKept;
  }

  /**
   * Where the file this owner pages from was replaced without a second name to keep it by (a
   * snapshot written on this thread, or a file system without hard links): reads the rest of
   * it in, off this thread, and closes it, so that its blocks are freed.
   */
  private releasePaged(): Promise<void> {
    const paged = this.paged;
    if (!paged) return Promise.resolve();
    const releasing = paged.release().then(
      () => {
        if (this.paged === paged) this.paged = undefined;
      },
      (err: unknown) => {
        this.opts.log.warn(`the replaced snapshot could not be read in (its disk space is freed when the orchestrator stops): ${(err as Error)?.message ?? err}`);
      },
    );
    const tracked: Promise<void> = releasing.then(() => {
      if (this.releasing === tracked) this.releasing = undefined;
    });
    this.releasing = tracked;
    return releasing;
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** What a replay of journal records did: how far the journal was good, and whether (and where) it was damaged. */
interface Replayed {
  goodBytes: number;
  badBytes: number;
  damaged: boolean;
  damage?: string;
  records: number;
  applied: number;
}

/** The owner's load reads and replays the journal in slices of this long, a turn of the event loop between. */
const SLICE_MS = 10;

/** Runs `steps` to the end at once. */
function toEnd(steps: Generator<void, void, undefined>): void {
  while (!steps.next().done);
}

/** Runs `steps` to the end, with a turn of the event loop after every SLICE_MS of them. */
async function inSlices<T>(steps: Generator<void, T, undefined>): Promise<T> {
  let since = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    if (performance.now() - since >= SLICE_MS) {
      await turnOfTheLoop();
      since = performance.now();
    }
  }
}

/**
 * Lets every phase of the event loop run (timers, I/O) before going on. One setImmediate is not
 * always enough: from a promise settled by I/O it runs later in the same turn, before any timer.
 */
function turnOfTheLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** What export() takes for a database of `bytes` (about 0.6 MB a millisecond, measured): where a snapshot is written. */
function estimatedExportMs(bytes: number): number {
  return bytes / 600_000;
}

/** A second name for `file` beside it, or undefined where links cannot be made. */
function linkAside(file: string): string | undefined {
  const old = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.old`);
  try {
    fs.linkSync(file, old);
    return old;
  } catch {
    return undefined;
  }
}

/** Truncates `file` 16 MiB at a time, a pause between, then removes it: its blocks are freed in small journal transactions. */
async function shrinkAway(file: string): Promise<void> {
  const STEP = 16 * 1024 * 1024;
  try {
    for (let size = (await fs.promises.stat(file)).size; size > 0; ) {
      size = Math.max(0, size - STEP);
      await fs.promises.truncate(file, size);
      await new Promise((r) => setTimeout(r, 20));
    }
    await fs.promises.unlink(file);
  } catch {
    // Gone already, or not ours to shrink: the next owner removes what is left.
  }
}

function runSnapshotWorker(job: SnapshotJob): Promise<Extract<SnapshotReply, { ok: true }>> {
  return new Promise((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(SNAPSHOT_WORKER, { workerData: { snapshotJob: job } });
    } catch (err) {
      return reject(Object.assign(err as Error, { workerNotStarted: true }));
    }
    let replied = false;
    worker.once('message', (reply: SnapshotReply) => {
      replied = true;
      if (reply.ok) resolve(reply);
      else reject(new Error(reply.error));
    });
    worker.once('error', (err) => reject(Object.assign(err, { workerNotStarted: (err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' })));
    worker.once('exit', (code) => {
      if (!replied) reject(new Error(`the snapshot worker exited (${code}) without an answer`));
    });
  });
}
