// The append-only journal that makes each tick durable at a cost that does not grow with
// the database: one line per committed transaction, one fsync. Each line carries a
// checksum, so a line torn by a crash is recognised and ignored on load.
// Named `orchestrator.journal`, never `-journal`/`-wal`, which SQLite tools would claim.
import * as crypto from 'crypto';
import * as fs from 'fs';
import type { SqlValue } from 'sql.js';
import type { Op } from './store';

export interface JournalRecord {
  n: number; // record number, one more than the previous; the snapshot notes the last it holds
  ops: Op[];
}

export interface JournalRead {
  records: JournalRecord[];
  /** Bytes up to the end of the last good record. */
  goodBytes: number;
  /** Bytes after it: a torn last write (harmless) or damage (`damaged`). */
  badBytes: number;
  /** True when something after a bad line parsed: not just a torn tail. */
  damaged: boolean;
}

function checksum(body: string): string {
  return crypto.createHash('sha1').update(body).digest('hex').slice(0, 10);
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

export function encodeRecord(record: JournalRecord): string {
  const body = JSON.stringify({ n: record.n, ops: record.ops.map(([name, params]) => [name, params.map(encodeValue)]) });
  return `${checksum(body)} ${body}\n`;
}

function decodeLine(line: string): JournalRecord | undefined {
  const space = line.indexOf(' ');
  if (space <= 0) return undefined;
  const body = line.slice(space + 1);
  if (checksum(body) !== line.slice(0, space)) return undefined;
  try {
    const raw = JSON.parse(body) as { n: number; ops: [Op[0], unknown[]][] };
    if (!Number.isInteger(raw.n) || !Array.isArray(raw.ops)) return undefined;
    return { n: raw.n, ops: raw.ops.map(([name, params]) => [name, params.map(decodeValue)]) };
  } catch {
    return undefined;
  }
}

/** Reads the bytes of `file` from `offset` on (a follower reads only what is new). */
function readFrom(file: string, offset: number): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.max(0, size - offset));
    let got = 0;
    while (got < buf.length) {
      const n = fs.readSync(fd, buf, got, buf.length - got, offset + got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads records from byte `offset`; stops at the first line that is incomplete or fails its
 * checksum. `goodBytes` is absolute (offset included).
 */
export function readJournal(file: string, offset = 0): JournalRead {
  const buf = readFrom(file, offset);
  if (!buf) return { records: [], goodBytes: 0, badBytes: 0, damaged: false };
  const records: JournalRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) break; // no newline: the last write was torn
    const rec = decodeLine(buf.toString('utf8', pos, nl));
    if (!rec) break;
    records.push(rec);
    pos = nl + 1;
  }
  let damaged = false;
  if (pos < buf.length) {
    // A torn write is only ever the tail. A good line after the bad one means damage.
    const rest = buf.toString('utf8', pos).split('\n').slice(1);
    damaged = rest.some((line) => line && decodeLine(line) !== undefined);
  }
  return { records, goodBytes: offset + pos, badBytes: buf.length - pos, damaged };
}

/** The owner's handle on the journal: appends are written and fsynced before returning. */
export class JournalWriter {
  private fd: number;
  private size: number;
  private records = 0;

  constructor(
    readonly file: string,
    /** Valid length from readJournal: a torn tail beyond it is cut off before appending. */
    goodBytes: number,
    existingRecords: number,
  ) {
    this.fd = fs.openSync(file, fs.existsSync(file) ? 'r+' : 'w+');
    if (fs.fstatSync(this.fd).size !== goodBytes) {
      fs.ftruncateSync(this.fd, goodBytes);
      fs.fsyncSync(this.fd);
    }
    this.size = goodBytes;
    this.records = existingRecords;
  }

  get bytes(): number {
    return this.size;
  }

  get recordCount(): number {
    return this.records;
  }

  append(record: JournalRecord): void {
    const data = Buffer.from(encodeRecord(record));
    let written = 0;
    while (written < data.length) written += fs.writeSync(this.fd, data, written, data.length - written, this.size + written);
    fs.fdatasyncSync(this.fd);
    this.size += data.length;
    this.records++;
  }

  /** Empties the journal once a snapshot holds everything in it. */
  reset(): void {
    fs.ftruncateSync(this.fd, 0);
    fs.fsyncSync(this.fd);
    this.size = 0;
    this.records = 0;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
