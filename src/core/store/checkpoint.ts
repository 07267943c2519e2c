// A checkpoint: the blocks of the snapshot that the journal's first records changed, as they
// are after those records. Loading the snapshot with them laid over it is loading it and
// replaying those records, without the replay: at 100k history rows a 4,999-record journal
// took 150–200 ms of SQLite work at every start after a crash, the most of the start.
//
// A snapshot worker writes one every few hundred records (database.ts): it loads the snapshot
// with the last checkpoint over it, applies the records since, and writes every block that
// differs from the snapshot, to a temp file (O_DIRECT, as snapshots) renamed into place. The journal is never cut at a
// checkpoint, only at a snapshot: a checkpoint is never the only copy of anything, and one that
// is missing, damaged, or made for another snapshot is passed over and the journal replayed.
// Its blocks all come from one worker's replay onto that very snapshot file (named by its
// inode, size, time and first block), never mixed with pages of another copy: SQLite lays the
// same rows out differently when it gets there by a different path.
//
// The file: MAGIC, a 4-byte length and that many bytes of JSON (CheckpointHeader), the block
// numbers (4 bytes each), the blocks, and the CRC-32 of everything before it.
import * as fs from 'fs';
import * as zlib from 'zlib';
import { readFully } from './readFully';

export const BLOCK = 4096;
const MAGIC = Buffer.from('SDLC checkpoint 1\n');

/** Which snapshot file a checkpoint was made on. */
export interface SnapshotIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
  /** CRC-32 of its first block (SQLite's header and the schema's root). */
  head: number;
}

interface CheckpointHeader {
  base: SnapshotIdentity;
  /** The last journal record the blocks hold. */
  upTo: number;
  /** The database's size in bytes with the blocks laid over it. */
  size: number;
  blocks: number;
}

export interface Checkpoint {
  upTo: number;
  size: number;
  /** Block number and its bytes, in increasing order. */
  blocks: [number, Uint8Array][];
}

/** The identity of the file open on `fd` (its first block read from it). */
export function identityOf(fd: number): SnapshotIdentity {
  const st = fs.fstatSync(fd);
  const buf = new Uint8Array(Math.min(BLOCK, st.size));
  const head = buf.subarray(0, readFully(fd, buf, buf.length, 0));
  return { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, head: zlib.crc32(head) };
}

function sameSnapshot(a: SnapshotIdentity, b: SnapshotIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.head === b.head;
}

/** Bytes to write, produced in order (a snapshot's or a checkpoint's; snapshotWorker.ts writes them): `fill` copies bytes [at, at + into.length) into `into`, called with `at` increasing. */
export interface SequentialSource {
  size: number;
  fill(into: Uint8Array, at: number): void;
}

/**
 * A checkpoint's bytes, for the snapshot writer to write (snapshotWorker.ts: O_DIRECT where it
 * can, so the owner's journal fsyncs never wait for them). The CRC is computed as the bytes
 * are filled, so they must be filled in order, as the writer does.
 */
export function checkpointSource(base: SnapshotIdentity, upTo: number, size: number, held: Iterable<[number, Uint8Array]>): SequentialSource {
  const list = [...held].filter(([b]) => b * BLOCK < size);
  const header = Buffer.from(JSON.stringify({ base, upTo, size, blocks: list.length } satisfies CheckpointHeader));
  const head = Buffer.alloc(MAGIC.length + 4 + header.length + 4 * list.length);
  MAGIC.copy(head);
  head.writeUInt32LE(header.length, MAGIC.length);
  header.copy(head, MAGIC.length + 4);
  list.forEach(([b], i) => head.writeUInt32LE(b, MAGIC.length + 4 + header.length + 4 * i));
  const blocksEnd = head.length + list.length * BLOCK;
  const total = blocksEnd + 4;
  let crc = 0;
  let filled = 0;
  const trailer = Buffer.alloc(4);
  return {
    size: total,
    fill(into, at) {
      if (at !== filled) throw new Error(`a checkpoint is filled in order: asked for byte ${at}, next is ${filled}`);
      let pos = at;
      const end = at + into.length;
      while (pos < end) {
        let part: Uint8Array;
        if (pos < head.length) part = head.subarray(pos, Math.min(head.length, end));
        else if (pos < blocksEnd) {
          const i = Math.floor((pos - head.length) / BLOCK);
          const from = pos - head.length - i * BLOCK;
          const block = list[i][1];
          const n = Math.min(BLOCK - from, end - pos);
          part = block.length >= from + n ? block.subarray(from, from + n) : Buffer.concat([block, Buffer.alloc(BLOCK - block.length)]).subarray(from, from + n);
        } else {
          if (pos === blocksEnd) trailer.writeUInt32LE(crc);
          part = trailer.subarray(pos - blocksEnd, Math.min(4, end - blocksEnd));
        }
        into.set(part, pos - at);
        if (pos < blocksEnd) crc = zlib.crc32(part, crc);
        pos += part.length;
      }
      filled = end;
    },
  };
}

/**
 * The checkpoint in `file` if it was made on the snapshot `base`. Otherwise `checkpoint` is
 * undefined, and `problem` says why when that is worth saying (damage); a missing file or one
 * made on an earlier snapshot is the normal case and says nothing.
 */
function readCheckpointFile(file: string, base: SnapshotIdentity): { checkpoint?: Checkpoint; problem?: string } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `it could not be read (${(err as Error).message})` };
  }
  const damaged = (what: string): { problem: string } => ({ problem: `it is damaged (${what})` });
  if (buf.length < MAGIC.length + 8 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) return damaged('not a checkpoint file');
  if (zlib.crc32(buf.subarray(0, buf.length - 4)) !== buf.readUInt32LE(buf.length - 4)) return damaged('its checksum does not match');
  const headerEnd = MAGIC.length + 4 + buf.readUInt32LE(MAGIC.length);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, headerEnd)) as CheckpointHeader;
  } catch {
    return damaged('its header does not parse');
  }
  const { blocks: count, upTo, size } = header;
  const dataStart = headerEnd + 4 * count;
  if (!Number.isInteger(count) || !Number.isInteger(upTo) || !Number.isInteger(size) || dataStart + count * BLOCK + 4 !== buf.length) return damaged('its length does not match its header');
  if (!header.base || !sameSnapshot(header.base, base)) return {};
  const blocks: [number, Uint8Array][] = [];
  for (let i = 0; i < count; i++) {
    const at = dataStart + i * BLOCK;
    // Views of the one array read: each block is written in place from here on, as a block of the database.
    blocks.push([buf.readUInt32LE(headerEnd + 4 * i), new Uint8Array(buf.buffer, buf.byteOffset + at, BLOCK)]);
  }
  return { checkpoint: { upTo, size, blocks } };
}

/** A load's use of a checkpoint: the file to lay over the snapshot; the read sets the last record its blocks hold, or why it was passed over. */
export interface CheckpointUse {
  file: string;
  upTo?: number;
  problem?: string;
}

/** Reads `use.file` for the snapshot `base`, noting the outcome in `use`. */
export function useCheckpoint(use: CheckpointUse, base: SnapshotIdentity): Checkpoint | undefined {
  const { checkpoint, problem } = readCheckpointFile(use.file, base);
  use.upTo = checkpoint?.upTo;
  use.problem = problem;
  return checkpoint;
}

/** Lays `checkpoint`'s blocks into `room`, a snapshot's bytes read whole into an array of at least checkpoint.size bytes. */
export function layOver(room: Uint8Array, checkpoint: Checkpoint): void {
  for (const [b, block] of checkpoint.blocks) room.set(block.subarray(0, Math.max(0, Math.min(BLOCK, checkpoint.size - b * BLOCK))), b * BLOCK);
}
