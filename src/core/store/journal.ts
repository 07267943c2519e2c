// The append-only journal that makes each tick durable at a cost that does not grow with
// the database: one record per committed transaction, one fsync. A record is
// `#<length>:<checksum> <body>\n`: the length tells a torn last write (the record runs past the
// end of the file, never acknowledged) from damage to a complete record (it is all there but
// its checksum fails), which loses acknowledged work and must be reported, never cut quietly.
// Records also carry the writer's epoch (see epoch.ts). Lines of the first format
// (`<checksum> <body>`) are still read.
// Named `orchestrator.journal`, never `-journal`/`-wal`, which SQLite tools would claim.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import type { SqlValue } from 'sql.js';
import { fsyncDir, renameWithRetry } from './atomicFile';
import { openExisting, readFully } from './readFully';
import type { Op } from './store';

export interface JournalRecord {
  n: number; // record number, one more than the previous; the snapshot notes the last it holds
  /** The epoch of the owner that wrote it (0 in records written before epochs existed). */
  e: number;
  ops: Op[];
}

export interface JournalRead {
  records: JournalRecord[];
  /** Bytes up to the end of the last good record. */
  goodBytes: number;
  /** Bytes after it: a torn last write (`torn`) or damage (`damaged`). */
  badBytes: number;
  /** A complete record failed its check, or something after a bad record parsed: acknowledged work may be lost. */
  damaged: boolean;
  /** Where the damage is, for the message: "record 12, byte 3456". */
  damage?: string;
  /** The file's bytes that were read (from the offset), so a new owner can copy the good part. */
  bytes: Buffer;
}

export class JournalPathError extends Error {}

/** One-shot hashing (Node 20.12+) costs half of createHash's object per record. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer | string, encoding: 'hex') => string }).hash;

function checksum(body: Buffer | string): string {
  return (oneShot ? oneShot('sha1', body, 'hex') : crypto.createHash('sha1').update(body).digest('hex')).slice(0, 10);
}

function encodeValue(v: SqlValue): unknown {
  return v instanceof Uint8Array ? { $b: Buffer.from(v).toString('base64') } : v;
}

function decodeValue(v: unknown): SqlValue {
  if (v !== null && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string') {
    return new Uint8Array(Buffer.from((v as { $b: string }).$b, 'base64'));
  }
  return v as SqlValue;
}

export function encodeRecord(record: JournalRecord): Buffer {
  const body = JSON.stringify({ n: record.n, e: record.e, ops: record.ops.map(([name, params]) => [name, params.some((v) => v instanceof Uint8Array) ? params.map(encodeValue) : params]) });
  // The checksum of a string is that of its UTF-8 bytes; one buffer is made, for the write.
  return Buffer.from(`#${Buffer.byteLength(body)}:${checksum(body)} ${body}\n`);
}

function decodeBody(body: string): JournalRecord | undefined {
  try {
    const raw = JSON.parse(body) as { n: number; e?: number; ops: [Op[0], unknown[]][] };
    if (!Number.isInteger(raw.n) || !Array.isArray(raw.ops)) return undefined;
    // Blobs are the only values that need decoding: a record without one is used as parsed.
    const ops = body.includes('"$b"') ? raw.ops.map(([name, params]) => [name, params.map(decodeValue)] as Op) : (raw.ops as Op[]);
    return { n: raw.n, e: Number.isInteger(raw.e) ? raw.e! : 0, ops };
  } catch {
    return undefined;
  }
}

/** How an encoded record begins (see encodeRecord): its number, and its epoch when it has one. */
const LAZY_HEAD = /^\{"n":(\d{1,15}),(?:"e":(\d{1,15}),)?"ops":\[/;

/**
 * A record whose operations are parsed when they are applied, and dropped after: a start-up
 * that held all 4,999 records of a long journal parsed at once kept 9 MB of them alive through
 * the replay, and V8 grew its young generation by 16 MB more to hold them while they were new.
 * The checksum has been verified; bytes that still do not parse (a bug, never a torn write)
 * throw where the record is applied, which stops the replay there as a record that does not apply.
 */
function lazyRecord(buf: Buffer, start: number, end: number): JournalRecord | undefined {
  const head = LAZY_HEAD.exec(buf.toString('latin1', start, Math.min(end, start + 48)));
  if (!head) return undefined;
  return {
    n: Number(head[1]),
    e: head[2] === undefined ? 0 : Number(head[2]),
    get ops() {
      const record = decodeBody(buf.toString('utf8', start, end));
      if (!record) throw new Error('a journal record whose checksum is right cannot be parsed');
      return record.ops;
    },
  };
}

type Decoded = { kind: 'record'; record: JournalRecord; end: number } | { kind: 'torn' } | { kind: 'bad' };

const HEADER = /^#(\d{1,10}):([0-9a-f]{10}) /;

/** Decodes the record at `pos`. */
function decodeAt(buf: Buffer, pos: number): Decoded {
  if (buf[pos] === 0x23 /* # */) {
    const head = HEADER.exec(buf.toString('latin1', pos, Math.min(buf.length, pos + 24)));
    if (!head) return buf.indexOf(0x0a, pos) < 0 && buf.length - pos < 24 ? { kind: 'torn' } : { kind: 'bad' };
    const start = pos + head[0].length;
    const end = start + Number(head[1]);
    if (end + 1 > buf.length) {
      // Runs past the end of the file: a torn last write, unless a newline shows it ended early (damage).
      return buf.indexOf(0x0a, start) < 0 ? { kind: 'torn' } : { kind: 'bad' };
    }
    const body = buf.subarray(start, end);
    if (buf[end] !== 0x0a || checksum(body) !== head[2]) return { kind: 'bad' };
    const record = lazyRecord(buf, start, end) ?? decodeBody(body.toString('utf8'));
    return record ? { kind: 'record', record, end: end + 1 } : { kind: 'bad' };
  }
  // Zeros to the end: the file grew but the data never reached the disk (a torn write).
  if (buf.subarray(pos).every((b) => b === 0)) return { kind: 'torn' };
  // The first format: `<checksum> <body>\n`. No length: a line without its newline is torn.
  if (!/^[0-9a-f]{10} \{/.test(buf.toString('latin1', pos, pos + 12))) return { kind: 'bad' };
  const nl = buf.indexOf(0x0a, pos);
  if (nl < 0) return { kind: 'torn' };
  const line = buf.toString('utf8', pos, nl);
  const space = line.indexOf(' ');
  if (space <= 0 || checksum(line.slice(space + 1)) !== line.slice(0, space)) return { kind: 'bad' };
  const record = decodeBody(line.slice(space + 1));
  return record ? { kind: 'record', record, end: nl + 1 } : { kind: 'bad' };
}

/** Reads the bytes of `file` from `offset` on (a follower reads only what is new). */
function readFrom(file: string, offset: number): Buffer | undefined {
  const fd = openExisting(file);
  if (fd === undefined) return undefined;
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) {
      throw new JournalPathError(`the journal ${file} is a folder, not a file; move it out of the way (nothing in it is used) and start again`);
    }
    const buf = Buffer.alloc(Math.max(0, st.size - offset));
    return buf.subarray(0, readFully(fd, buf, buf.length, offset));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads records from byte `offset`; stops at the first record that is incomplete (torn) or
 * damaged. `goodBytes` is absolute (offset included).
 */
export function readJournal(file: string, offset = 0): JournalRead {
  const steps = readingJournal(file, offset);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * readJournal, stopping after each record it checks: the owner's load gives the event loop a
 * turn between slices of a long journal (checking 4,999 records takes 20–28 ms).
 */
export function* readingJournal(file: string, offset = 0): Generator<void, JournalRead, undefined> {
  const buf = readFrom(file, offset);
  if (!buf) return { records: [], goodBytes: 0, badBytes: 0, damaged: false, bytes: Buffer.alloc(0) };
  const records: JournalRecord[] = [];
  let pos = 0;
  let damaged = false;
  let damage: string | undefined;
  while (pos < buf.length) {
    const d = decodeAt(buf, pos);
    if (d.kind === 'record') {
      records.push(d.record);
      pos = d.end;
      yield;
      continue;
    }
    if (d.kind === 'bad') {
      damaged = true;
      damage = `after record ${records.length ? records[records.length - 1].n : 'none'}, at byte ${offset + pos}`;
    }
    break;
  }
  return { records, goodBytes: offset + pos, badBytes: buf.length - pos, damaged, damage, bytes: buf };
}

const readAsync = promisify(fs.read);
const writeAsync = promisify(fs.write);
const fdatasyncAsync = promisify(fs.fdatasync);
const fsyncAsync = promisify(fs.fsync);

/** The good records, written to the owner's own file, not yet in place (see JournalWriter.prepare). */
export interface PreparedJournal {
  /** Renames it over the journal; `beforeRename` may throw (a fenced owner), which leaves the journal as it was. */
  install(beforeRename?: () => void): JournalWriter;
  discard(): void;
}
/** What is left to copy when the journal is switched, synchronously, between two appends. */
const SWITCH_TAIL_BYTES = 64 * 1024;

/** The owner's handle on the journal: appends are written and fsynced before returning. */
export class JournalWriter {
  private closed = false;

  private constructor(
    readonly file: string,
    private fd: number,
    private size: number,
    private records: number,
  ) {}

  /**
   * A new owner never appends to the file an earlier owner may still hold open: it writes the
   * good records to a new file and renames it over the journal. An earlier owner that is still
   * running (frozen, or about to be fenced) then writes only to the replaced file, which nobody
   * reads, and the bytes of the live journal are only ever this owner's. The copy is written
   * and fsynced on libuv's threads (the caller goes on loading meanwhile); `install` renames it
   * into place, once the caller has kept what it must of the old file.
   */
  static async prepare(file: string, good: Buffer, existingRecords: number): Promise<PreparedJournal> {
    const tmp = `${file}.${process.pid}.new`;
    const fd = fs.openSync(tmp, 'w+');
    const discard = (): void => {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    };
    try {
      let written = 0;
      while (written < good.length) written += (await writeAsync(fd, good, written, good.length - written, written)).bytesWritten;
      await fsyncAsync(fd);
    } catch (err) {
      discard();
      throw err;
    }
    return {
      discard,
      install: (beforeRename = () => {}) => {
        try {
          beforeRename();
          renameWithRetry(tmp, file);
          fsyncDir(path.dirname(file));
        } catch (err) {
          discard();
          throw err;
        }
        return new JournalWriter(file, fd, good.length, existingRecords);
      },
    };
  }

  get bytes(): number {
    return this.size;
  }

  get recordCount(): number {
    return this.records;
  }

  append(record: JournalRecord): void {
    const data = encodeRecord(record);
    let written = 0;
    while (written < data.length) written += fs.writeSync(this.fd, data, written, data.length - written, this.size + written);
    fs.fdatasyncSync(this.fd);
    this.size += data.length;
    this.records++;
  }

  /**
   * Drops the first `dropRecords` records (the `offset` bytes before them), which a snapshot
   * now holds, while appends go on. What follows them is copied to a new file asynchronously;
   * only what was appended meanwhile (under 64 KiB) is copied between two appends, and the new
   * file replaces the journal by rename, as a new owner's does: after a crash at any moment
   * the journal is the old file or the new one, each complete. `beforeRename` may throw (a
   * fenced owner): the journal is then left as it was.
   */
  async dropBefore(offset: number, dropRecords: number, beforeRename: () => void): Promise<void> {
    const tmp = `${this.file}.${process.pid}.new`;
    const src = fs.openSync(this.file, 'r');
    let out: number | undefined;
    let switched = false;
    try {
      out = fs.openSync(tmp, 'w');
      const buf = Buffer.alloc(1 << 20);
      let copied = offset;
      const copyAsync = async (end: number): Promise<void> => {
        while (copied < end) {
          const { bytesRead } = await readAsync(src, buf, 0, Math.min(buf.length, end - copied), copied);
          if (bytesRead === 0) throw new Error('the journal is shorter than what was written to it');
          let w = 0;
          while (w < bytesRead) w += (await writeAsync(out!, buf, w, bytesRead - w, copied - offset + w)).bytesWritten;
          copied += bytesRead;
        }
      };
      for (let pass = 0; pass < 20 && this.size - copied > SWITCH_TAIL_BYTES; pass++) await copyAsync(this.size);
      await fdatasyncAsync(out);
      if (this.closed) throw new Error('the journal was closed');
      // From here to the switch, synchronously: no append can come in between.
      while (copied < this.size) {
        const n = fs.readSync(src, buf, 0, Math.min(buf.length, this.size - copied), copied);
        if (n === 0) throw new Error('the journal is shorter than what was written to it');
        let w = 0;
        while (w < n) w += fs.writeSync(out, buf, w, n - w, copied - offset + w);
        copied += n;
      }
      fs.fdatasyncSync(out);
      beforeRename();
      renameWithRetry(tmp, this.file);
      switched = true;
      fs.closeSync(this.fd);
      this.fd = out;
      out = undefined;
      this.size = copied - offset;
      this.records -= dropRecords;
      fsyncDir(path.dirname(this.file));
    } finally {
      fs.closeSync(src);
      if (out !== undefined) fs.closeSync(out);
      if (!switched) fs.rmSync(tmp, { force: true });
    }
  }

  /** Empties the journal once a snapshot holds everything in it. */
  reset(): void {
    fs.ftruncateSync(this.fd, 0);
    fs.fsyncSync(this.fd);
    this.size = 0;
    this.records = 0;
  }

  close(): void {
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
