// Loads sql.js with its wasm read explicitly from a file we ship (never fetched).
import * as fs from 'fs';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

let loaded: Promise<SqlJsStatic> | undefined;
let loadedFrom: string | undefined;

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
    loaded.catch(() => (loaded = undefined));
  }
  return loaded;
}
