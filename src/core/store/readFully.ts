// Reading a whole file (or its tail) synchronously into an array of the caller's choosing.
import * as fs from 'fs';

/** Opens `file` for reading; undefined if it does not exist. */
export function openExisting(file: string): number | undefined {
  try {
    return fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads up to `length` bytes at `position` into the start of `into`; returns how many (fewer at the end of the file). */
export function readFully(fd: number, into: Uint8Array, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = fs.readSync(fd, into, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
