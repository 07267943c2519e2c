// Binding a string through sql.js walks it three times in JavaScript (its UTF-8 length, the copy
// into wasm memory, the length again), a character at a time: a third of replaying a journal at
// start-up, where records carry kilobytes of JSON. This binds through SQLite's C API, which
// sql.js exports, with Node's native UTF-8 encoder and one scratch area in wasm memory that
// SQLite copies from (SQLITE_TRANSIENT), so nothing is allocated or freed per value. Values bind
// exactly as sql.js binds them (whole numbers that fit 32 bits as integers, other numbers as
// doubles, strings as text, arrays as blobs, null as NULL).
//
// The one thing sql.js does not export is where a Statement keeps its pointer. It is found by
// value, once per statement: the database's table of its statements is keyed by pointer. A
// statement whose pointer is not found, or a database from another copy of sql.js, is bound by
// sql.js itself, as before.
import type { Database, SqlJsStatic, Statement } from 'sql.js';
import { loadedSqlJs } from './sqljs';
import type { Binder } from './store';

/** The part of sql.js's exports used here (they are on the module, not in its typings). */
interface CApi {
  _malloc(n: number): number;
  _free(ptr: number): void;
  _sqlite3_bind_text(stmt: number, i: number, ptr: number, n: number, destructor: number): number;
  _sqlite3_bind_blob(stmt: number, i: number, ptr: number, n: number, destructor: number): number;
  _sqlite3_bind_int(stmt: number, i: number, v: number): number;
  _sqlite3_bind_double(stmt: number, i: number, v: number): number;
  writeArrayToMemory(bytes: Uint8Array, ptr: number): void;
}

const SQLITE_TRANSIENT = -1;

/** One per copy of sql.js: the scratch areas (JavaScript and wasm) are reused by every bind. */
class Scratch {
  private ptr = 0;
  private size = 0;
  private bytes = Buffer.allocUnsafe(64 * 1024);

  constructor(private readonly api: CApi) {}

  /** Copies `value` into wasm memory; returns its address and length in bytes. */
  put(value: string | Uint8Array): [number, number] {
    let n: number;
    let src: Uint8Array;
    if (typeof value === 'string') {
      if (value.length * 3 > this.bytes.length) this.bytes = Buffer.allocUnsafe(value.length * 3);
      // write(value), with no offset, skips Node's argument checks (8 ms of a 4,999-record replay's profile).
      n = this.bytes.write(value);
      src = this.bytes.subarray(0, n);
    } else {
      n = value.length;
      src = value;
    }
    if (n + 1 > this.size) {
      if (this.ptr) this.api._free(this.ptr);
      this.size = Math.max(n + 1, 2 * this.size, 4096);
      this.ptr = this.api._malloc(this.size);
      if (!this.ptr) {
        this.size = 0;
        throw new Error(`sql.js could not allocate ${n} bytes to bind a value`);
      }
    }
    this.api.writeArrayToMemory(src, this.ptr);
    return [this.ptr, n];
  }
}

const scratches = new WeakMap<SqlJsStatic, Scratch>();

/**
 * The name of the field where sql.js keeps `stmt`'s SQLite pointer (found once; the field is read
 * at every bind, so a freed statement, whose pointer sql.js sets to 0, is never bound here).
 */
function pointerField(db: Database, stmt: Statement): string | undefined {
  const fields = stmt as unknown as Record<string, unknown>;
  for (const table of Object.values(db as unknown as Record<string, unknown>)) {
    if (!table || typeof table !== 'object' || table instanceof Map) continue;
    for (const key of Object.keys(fields)) {
      const v = fields[key];
      if (typeof v === 'number' && v !== 0 && (table as Record<number, unknown>)[v] === stmt) return key;
    }
  }
  return undefined;
}

/** `stmt`'s SQLite pointer, as this module finds it (exported for the tests: the fast path is taken only when it is found). */
export function statementPointer(db: Database, stmt: Statement): number | undefined {
  const key = pointerField(db, stmt);
  return key === undefined ? undefined : ((stmt as unknown as Record<string, number>)[key] ?? undefined);
}

/** A binder for `db`'s statements, or undefined when `db` is not from the sql.js loaded here. */
export function fastBinder(db: Database): Binder | undefined {
  const SQL = loadedSqlJs();
  if (!SQL || !(db instanceof SQL.Database)) return undefined;
  const api = SQL as unknown as CApi;
  if (typeof api._sqlite3_bind_text !== 'function' || typeof api.writeArrayToMemory !== 'function' || typeof api._malloc !== 'function') return undefined;
  let scratch = scratches.get(SQL);
  if (!scratch) scratches.set(SQL, (scratch = new Scratch(api)));
  const s = scratch;
  const keys = new WeakMap<Statement, string | null>();
  return (stmt, params) => {
    let key = keys.get(stmt);
    if (key === undefined) keys.set(stmt, (key = pointerField(db, stmt) ?? null));
    const ptr = key === null ? 0 : (stmt as unknown as Record<string, unknown>)[key];
    // Not found, or freed (sql.js then says "Statement closed"): sql.js binds.
    if (typeof ptr !== 'number' || ptr === 0) return void stmt.bind(params);
    // The statement is reset with its bindings cleared (every use ends in reset()): NULL needs no bind.
    for (let i = 0; i < params.length; i++) {
      const v = params[i] as unknown;
      let rc = 0;
      if (v === null) continue;
      if (typeof v === 'number' || typeof v === 'boolean') {
        const num = Number(v);
        rc = num === (num | 0) ? api._sqlite3_bind_int(ptr, i + 1, num) : api._sqlite3_bind_double(ptr, i + 1, num);
      } else if (typeof v === 'string') {
        const [at, n] = s.put(v);
        rc = api._sqlite3_bind_text(ptr, i + 1, at, n, SQLITE_TRANSIENT);
      } else if (v instanceof Uint8Array) {
        const [at, n] = s.put(v);
        rc = api._sqlite3_bind_blob(ptr, i + 1, at, n, SQLITE_TRANSIENT);
      } else rc = -1;
      // Anything unusual (a value sql.js would refuse, an error): let sql.js bind it all and say why.
      if (rc !== 0) return void stmt.bind(params);
    }
  };
}
