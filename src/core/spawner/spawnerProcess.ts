// The spawner: a small Node process that starts the process runner's shells for the engine.
// fork() copies the parent's page tables, so its cost grows with the parent's memory: with a
// 50 MB sql.js heap a spawn takes 2.5× as long as from a bare Node process, and the engine
// spent 80 % of a 10,000-run burst in spawn(). Spawning from here keeps that cost at the floor.
// It takes {spawn} requests over IPC, answers {spawned, pid} and later {exit, code, signal};
// it exits when the engine's channel closes, leaving the (detached) runs going, as the
// engine's own exit does.
import { spawn } from 'child_process';
import * as fs from 'fs';
import type { SpawnerReply, SpawnerRequest } from './spawnerProtocol';

const send = (reply: SpawnerReply) => process.send?.(reply);
/** Read once: each read of process.env asks the C environment again, key by key. */
const baseEnv = { ...process.env };

process.on('message', (req: SpawnerRequest) => {
  // The shell writes to the run's output file from its first byte, its own complaints
  // included (the wrapper then reopens it for the command): no pipe to create, poll and drain
  // per run, and the end is the exit itself.
  let out: number;
  try {
    out = fs.openSync(req.output, 'a');
  } catch (err) {
    return send({ t: 'error', id: req.id, message: `the run's output file cannot be written (${(err as Error).message})` });
  }
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(req.file, req.args, { cwd: req.cwd, env: { ...baseEnv, ...req.env }, detached: true, stdio: ['ignore', out, out] });
  } catch (err) {
    return send({ t: 'error', id: req.id, message: (err as Error).message });
  } finally {
    fs.closeSync(out); // the shell has its own copy
  }
  let failed = false;
  child.on('error', (err) => {
    failed = true;
    send({ t: 'error', id: req.id, message: err.message });
  });
  if (child.pid !== undefined) send({ t: 'spawned', id: req.id, pid: child.pid });
  child.on('exit', (code, signal) => {
    if (!failed) send({ t: 'exit', id: req.id, code, signal });
  });
});

process.on('disconnect', () => process.exit(0));
