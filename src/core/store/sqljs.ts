// Loads sql.js with its wasm read explicitly from a file we ship (never fetched).
import * as fs from 'fs';
import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { identityOf, layOver, useCheckpoint, type Checkpoint, type CheckpointUse } from './checkpoint';
import { openExisting, readFully } from './readFully';

let loaded: Promise<SqlJsStatic> | undefined;
let loadedFrom: string | undefined;
let loadedModule: SqlJsStatic | undefined;

/** The sql.js loaded by loadSqlJs, once it has loaded. */
export function loadedSqlJs(): SqlJsStatic | undefined {
  return loadedModule;
}

/** The wasm file sql.js was loaded from: a snapshot worker loads the same one. */
export function sqlJsWasmPath(): string {
  return loadedFrom ?? require.resolve('sql.js/dist/sql-wasm.wasm');
}

/** The default wasm is the one in node_modules; a bundled host passes its own copy's path. */
export function loadSqlJs(wasmPath?: string): Promise<SqlJsStatic> {
  if (!loaded) {
    const path = wasmPath ?? require.resolve('sql.js/dist/sql-wasm.wasm');
    loadedFrom = path;
    const wasmBinary = fs.readFileSync(path);
    loaded = initSqlJs({ wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer });
    loaded.then(
      (m) => (loadedModule = m),
      () => (loaded = undefined),
    );
  }
  return loaded;
}

/**
 * sql.js keeps a database's bytes in its in-memory file system (MEMFS), which takes the array a
 * database is opened from as the file itself (its first write `slice`s it, and a Node Buffer's
 * slice is a view), and grows a file by copying it into an array 12.5 % larger. A 54 MB
 * snapshot that replaying the journal makes grow was then held twice, 115 MB at once, and the
 * copy took 30–60 ms. This array hands MEMFS, at that one slice, the same bytes inside a larger
 * array: the file grows in place. The room is never written until the file grows into it, so
 * it costs no memory before. Any other slice is an ordinary one.
 */
class RoomToGrow extends Uint8Array<ArrayBuffer> {
  room: Uint8Array<ArrayBuffer> | undefined;

  override slice(start?: number, end?: number): Uint8Array<ArrayBuffer> {
    const room = this.room;
    if (room && start === 0 && end === this.length) {
      this.room = undefined;
      return room;
    }
    return super.slice(start, end);
  }
}

/** The file's bytes inside an array with room for it to grow by `growth` bytes and by an eighth (what MEMFS would add). */
function roomFor(size: number, growth: number): { room: Uint8Array<ArrayBuffer>; view: (got: number) => Uint8Array } {
  const room = new Uint8Array(new ArrayBuffer(size + Math.floor(size / 8) + Math.max(0, Math.floor(growth))));
  return {
    room,
    view: (got) => {
      const bytes = new RoomToGrow(room.buffer, 0, got);
      bytes.room = room;
      return bytes;
    },
  };
}

/** Reads `file` for `new SQL.Database(...)`, with room to grow without a copy; undefined if it does not exist. */
export function readDatabaseFile(file: string, growth: number, checkpoint?: CheckpointUse): Uint8Array | undefined {
  const fd = openExisting(file);
  if (fd === undefined) return undefined;
  try {
    const { size, over } = sizeAndCheckpoint(fd, checkpoint);
    const { room, view } = roomFor(Math.max(size, over?.size ?? 0), growth);
    const got = readFully(fd, room, size, 0);
    if (!over) return view(got);
    layOver(room, over);
    return view(over.size);
  } finally {
    fs.closeSync(fd);
  }
}

/** The snapshot's size on disk and, when asked for, the checkpoint made on it (see checkpoint.ts). */
function sizeAndCheckpoint(fd: number, checkpoint: CheckpointUse | undefined): { size: number; over?: Checkpoint } {
  if (!checkpoint) return { size: fs.fstatSync(fd).size };
  const identity = identityOf(fd);
  return { size: identity.size, over: useCheckpoint(checkpoint, identity) };
}

/**
 * readDatabaseFile with the read (and the page faults of a new 50 MB array) on a libuv thread.
 * The file is opened synchronously so that the read is under way before this returns: the
 * caller goes on with other work on its own thread (and an asynchronous open would wait for it).
 */
export function readDatabaseFileAsync(file: string, growth: number, checkpoint?: CheckpointUse): Promise<Uint8Array | undefined> {
  let fd: number | undefined;
  let size: number;
  let over: Checkpoint | undefined;
  try {
    fd = openExisting(file);
    if (fd === undefined) return Promise.resolve(undefined);
    ({ size, over } = sizeAndCheckpoint(fd, checkpoint));
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    return Promise.reject(err);
  }
  const opened = fd;
  const { room, view: viewOf } = roomFor(Math.max(size, over?.size ?? 0), growth);
  const view = (got: number): Uint8Array => {
    if (!over) return viewOf(got);
    layOver(room, over);
    return viewOf(over.size);
  };
  return new Promise((resolve, reject) => {
    const readFrom = (got: number): void => {
      if (got >= size) return done(null, got);
      fs.read(opened, room, got, size - got, got, (err, n) => (err ? done(err, got) : n === 0 ? done(null, got) : readFrom(got + n)));
    };
    const done = (err: Error | null, got: number): void => {
      fs.close(opened, () => (err ? reject(err) : resolve(view(got))));
    };
    readFrom(0);
  });
}
