// The owner's snapshot as sql.js's in-memory file, read from disk page by page as SQLite asks
// for it rather than all at start-up. MEMFS keeps a file's bytes in one array it only ever
// asks three things of: `subarray` (to copy a read out), `set` (to copy a write in) and
// `length` (its capacity). This object answers the three: a block written is kept in memory,
// a block never written is read from the snapshot on disk through a descriptor held open.
// At 100k history rows the 57 MB snapshot was the largest thing in the process; most of it is
// history that is only ever read, and the kernel's page cache (not counted as the process's
// memory) keeps it at hand.
//
// The descriptor keeps the loaded file readable after a new snapshot is renamed over it; the
// owner also keeps it by a second name until it closes (database.ts), since it shrinks away
// every other replaced snapshot. Where it cannot keep it, `release` reads in every block
// still on disk and closes the descriptor, and the file is wholly in memory from then on.
import * as fs from 'fs';
import { promisify } from 'util';
import { identityOf, useCheckpoint, type Checkpoint, type CheckpointUse, type SnapshotIdentity } from './checkpoint';
import { openExisting } from './readFully';

const BLOCK = 4096;
/** What MEMFS sees as the array's capacity: never outgrown, so it never copies the file into a larger array. */
const CAPACITY = 2 ** 46;
/** Reads up to this size are assembled in one reused array (MEMFS copies a read out at once). */
const SCRATCH = 64 * 1024;
/**
 * `release` reads the blocks still on disk this many bytes at a time, on libuv's threads, with
 * a pause between steps: nothing waits for it but the freeing of the replaced file, and read
 * flat out (270 MB at 500k runs) it lengthened the owner's longest event-loop gaps.
 */
const RELEASE_STEP = 1024 * 1024;
const RELEASE_PAUSE_MS = 10;

const readAsync = promisify(fs.read);

export class PagedFile {
  readonly length = CAPACITY;
  private readonly blocks: (Uint8Array | undefined)[] = [];
  /** Blocks of the file on disk not yet in memory; at 0 the descriptor is closed. */
  private onDisk: number;
  private readonly diskBlocks: number;
  private fd: number | undefined;
  private readonly scratch = new Uint8Array(SCRATCH);
  private releasing: Promise<void> | undefined;
  /** A read of `release` under way on libuv's threads, through this descriptor: it is closed when that read is done. */
  private readingFd: number | undefined;
  private closeWhenRead = false;

  constructor(
    readonly file: string,
    fd: number,
    /** The size of the file on disk when it was opened: bytes past it were never on disk. */
    readonly diskSize: number,
    /** Blocks held from the start, as if written: a checkpoint's (checkpoint.ts). */
    held: Iterable<[number, Uint8Array]> = [],
  ) {
    this.fd = fd;
    this.diskBlocks = Math.ceil(diskSize / BLOCK);
    this.onDisk = this.diskBlocks;
    for (const [b, block] of held) if (!this.blocks[b]) this.hold(b, block);
    if (this.onDisk === 0) this.closeDisk();
  }

  /** Every block held (written, or laid over from a checkpoint, or read in by `release`), by number. */
  *heldBlocks(): Generator<[number, Uint8Array]> {
    for (let b = 0; b < this.blocks.length; b++) {
      const block = this.blocks[b];
      if (block) yield [b, block];
    }
  }

  /** Whether reads may still go to the file on disk. */
  get reading(): boolean {
    return this.fd !== undefined;
  }

  /** How many bytes are held in memory (blocks written, or read in by `release`). */
  get bytesInMemory(): number {
    let n = 0;
    for (const b of this.blocks) if (b) n += BLOCK;
    return n;
  }

  /** MEMFS's read: bytes [start, end), valid until the next call (the caller copies them out at once). */
  subarray(start = 0, end = start): Uint8Array {
    const first = Math.floor(start / BLOCK);
    const held = this.blocks[first];
    if (held && end <= (first + 1) * BLOCK) return held.subarray(start - first * BLOCK, end - first * BLOCK);
    const length = end - start;
    const out = length <= SCRATCH ? this.scratch.subarray(0, length) : new Uint8Array(length);
    this.readInto(out, start, end);
    return out;
  }

  /** Copies bytes [start, start + out.length) into `out`: what is held, and the rest from disk. */
  copyTo(out: Uint8Array, start: number): void {
    this.readInto(out, start, start + out.length);
  }

  /** MEMFS's write: copies `src` in at `position` (src is a view of wasm memory, never kept). */
  set(bytes: Uint8Array, position = 0): void {
    const end = position + bytes.length;
    for (let b = Math.floor(position / BLOCK); b * BLOCK < end; b++) {
      const from = Math.max(position, b * BLOCK);
      const to = Math.min(end, (b + 1) * BLOCK);
      const block = this.blockForWrite(b, from === b * BLOCK && to === (b + 1) * BLOCK);
      block.set(bytes.subarray(from - position, to - position), from - b * BLOCK);
    }
  }

  /**
   * Reads every block still on disk into memory, a step at a time off this thread (writes in
   * between win: a block already held is never overwritten), then closes the descriptor.
   */
  release(): Promise<void> {
    if (this.fd === undefined) return Promise.resolve();
    this.releasing ??= this.readInTheRest().finally(() => (this.releasing = undefined));
    return this.releasing;
  }

  /** Closes the descriptor without reading the rest: the database is being closed. */
  dispose(): void {
    this.closeDisk();
  }

  private async readInTheRest(): Promise<void> {
    const per = RELEASE_STEP / BLOCK;
    for (let first = 0; first < this.diskBlocks && this.fd !== undefined; first += per) {
      const last = Math.min(this.diskBlocks, first + per);
      let wanted = false;
      for (let b = first; b < last && !wanted; b++) wanted = !this.blocks[b];
      if (!wanted) continue;
      if (first > 0) await new Promise((r) => setTimeout(r, RELEASE_PAUSE_MS));
      const from = first * BLOCK;
      const length = Math.min(this.diskSize, last * BLOCK) - from;
      // Each step's array becomes its blocks (views of it): one allocation a step, not one a
      // block, which kept a 270 MB file's release from making 69k arrays for the collector.
      const step = new Uint8Array(per * BLOCK);
      let got = 0;
      while (got < length) {
        const fd = this.fd;
        if (fd === undefined) return; // disposed, or every block written, meanwhile
        let bytesRead: number;
        this.readingFd = fd;
        try {
          ({ bytesRead } = await readAsync(fd, step, got, length - got, from + got));
        } finally {
          this.readingFd = undefined;
          if (this.closeWhenRead) {
            this.closeWhenRead = false;
            fs.closeSync(fd);
          }
        }
        if (bytesRead === 0) throw this.shortRead(from + got, length - got);
        got += bytesRead;
      }
      if (this.fd === undefined) return;
      for (let b = first; b < last; b++) {
        const at = (b - first) * BLOCK;
        if (!this.blocks[b]) this.hold(b, step.subarray(at, at + BLOCK)); // past the file's end: zeros, as a new block
      }
    }
  }

  private blockForWrite(b: number, whole: boolean): Uint8Array {
    const held = this.blocks[b];
    if (held) return held;
    const block = new Uint8Array(BLOCK);
    if (!whole && b < this.diskBlocks) this.readDisk(block, b * BLOCK, Math.min(BLOCK, this.diskSize - b * BLOCK));
    this.hold(b, block);
    return block;
  }

  private hold(b: number, block: Uint8Array): void {
    this.blocks[b] = block;
    if (b < this.diskBlocks && --this.onDisk === 0) this.closeDisk();
  }

  /** Fills `out` with bytes [start, end): held blocks copied, runs of blocks on disk read in one call each. */
  private readInto(out: Uint8Array, start: number, end: number): void {
    let runFrom = -1; // start (file offset) of a run of bytes to read from disk
    let pos = start;
    const flush = (upTo: number): void => {
      if (runFrom < 0) return;
      const diskEnd = Math.min(upTo, this.diskSize);
      if (diskEnd > runFrom) this.readDisk(out.subarray(runFrom - start, diskEnd - start), runFrom, diskEnd - runFrom);
      if (upTo > diskEnd) out.fill(0, Math.max(runFrom, diskEnd) - start, upTo - start); // never written, never on disk
      runFrom = -1;
    };
    while (pos < end) {
      const b = Math.floor(pos / BLOCK);
      const to = Math.min(end, (b + 1) * BLOCK);
      const held = this.blocks[b];
      if (held) {
        flush(pos);
        out.set(held.subarray(pos - b * BLOCK, to - b * BLOCK), pos - start);
      } else if (runFrom < 0) {
        runFrom = pos;
      }
      pos = to;
    }
    flush(end);
  }

  private readDisk(into: Uint8Array, position: number, length: number): void {
    const fd = this.fd;
    if (fd === undefined) throw new Error(`the snapshot ${this.file} is no longer open to read block ${Math.floor(position / BLOCK)}`);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(fd, into, got, length - got, position + got);
      if (n === 0) throw this.shortRead(position + got, length - got);
      got += n;
    }
  }

  private shortRead(position: number, length: number): Error {
    return new Error(
      `the snapshot ${this.file} this process loaded was cut short under it (${length} byte(s) missing at ${position}): ` +
        'another process has replaced it and taken over; restart to load the current one',
    );
  }

  /**
   * No read goes to disk from now on. The descriptor is closed at once, or, while a read of
   * `release` is under way through it, when that read is done: closed under it, the read
   * failed (EBADF), or could read another file that took the number.
   */
  private closeDisk(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    if (fd === this.readingFd) this.closeWhenRead = true;
    else fs.closeSync(fd);
  }
}

/**
 * What `new SQL.Database(...)` is given to open `file` paged: sql.js writes it into MEMFS
 * whole, and MEMFS keeps the one `slice` it takes of it as the file's array, which is the
 * PagedFile. Undefined if the file does not exist.
 */
export function openPaged(file: string, checkpoint?: CheckpointUse): { bytes: Uint8Array; paged: PagedFile; identity: SnapshotIdentity } | undefined {
  const fd = openExisting(file);
  if (fd === undefined) return undefined;
  let diskSize: number;
  let identity: SnapshotIdentity;
  let over: Checkpoint | undefined;
  try {
    identity = identityOf(fd);
    diskSize = identity.size;
    over = checkpoint && useCheckpoint(checkpoint, identity);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  const paged = new PagedFile(file, fd, diskSize, over?.blocks);
  const size = over ? over.size : diskSize;
  const carrier = {
    length: size,
    buffer: undefined,
    /** sql.js asks only that it have one (a plain array would be copied into a Uint8Array). */
    subarray(): never {
      throw new Error('a paged snapshot is handed over with slice(), never read through its carrier');
    },
    slice(start: number, end: number): PagedFile {
      if (start !== 0 || end !== size) throw new Error(`a paged snapshot is handed over whole, not bytes ${start}-${end}`);
      return paged;
    },
  };
  return { bytes: carrier as unknown as Uint8Array, paged, identity };
}
