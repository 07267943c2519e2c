// A worker thread that parses one actions file: a large file takes the YAML parser tens of
// milliseconds, which must not stall the extension host (shared by every extension).
import { parentPort, workerData } from 'worker_threads';
import { parseActionsFile, type ParseOptions } from './actionsFile';

const { bytes, file, opts } = workerData as { bytes: Uint8Array; file: string; opts: ParseOptions };
parentPort!.postMessage(parseActionsFile(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, opts));
