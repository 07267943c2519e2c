// The queue's sort key: 8-byte big-endian due time in ms, then the 16-byte action uuid.
// SQLite compares blobs with memcmp, and big-endian bytes sort in time order, so
// `due_key <= dueKeyUpperBound(now)` is exactly "everything due now", oldest first.

export const DUE_KEY_BYTES = 24;
/** Due times are kept in [0, 2^53): every JS-safe millisecond count, big-endian. */
const MAX_TIME = Number.MAX_SAFE_INTEGER;

function writeTime(buf: Uint8Array, ms: number): void {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIME) throw new RangeError(`due time out of range: ${ms}`);
  // Split into high and low 32-bit words; both fit exactly in a double.
  const high = Math.floor(ms / 0x1_0000_0000);
  const low = ms % 0x1_0000_0000;
  const view = new DataView(buf.buffer, buf.byteOffset, 8);
  view.setUint32(0, high, false);
  view.setUint32(4, low, false);
}

export function uuidToBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new RangeError(`not a uuid: ${uuid}`);
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function dueKey(dueAtMs: number, actionId: string): Uint8Array {
  const key = new Uint8Array(DUE_KEY_BYTES);
  writeTime(key, dueAtMs);
  key.set(uuidToBytes(actionId), 8);
  return key;
}

/** The largest key with this due time: everything `<=` it is due at `nowMs`. */
export function dueKeyUpperBound(nowMs: number): Uint8Array {
  const key = new Uint8Array(DUE_KEY_BYTES).fill(0xff);
  writeTime(key, Math.max(0, Math.min(MAX_TIME, Math.floor(nowMs))));
  return key;
}

export function dueKeyTime(key: Uint8Array): number {
  const view = new DataView(key.buffer, key.byteOffset, 8);
  return view.getUint32(0, false) * 0x1_0000_0000 + view.getUint32(4, false);
}
