// Loads sql.js with its wasm read explicitly from a file we ship (never fetched).
import * as fs from 'fs';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

let loaded: Promise<SqlJsStatic> | undefined;

/** The default wasm is the one in node_modules; a bundled host passes its own copy's path. */
export function loadSqlJs(wasmPath?: string): Promise<SqlJsStatic> {
  if (!loaded) {
    const path = wasmPath ?? require.resolve('sql.js/dist/sql-wasm.wasm');
    const wasmBinary = fs.readFileSync(path);
    loaded = initSqlJs({ wasmBinary: wasmBinary.buffer.slice(wasmBinary.byteOffset, wasmBinary.byteOffset + wasmBinary.byteLength) as ArrayBuffer });
    loaded.catch(() => (loaded = undefined));
  }
  return loaded;
}
