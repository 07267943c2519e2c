// The spawner: a small Node process that starts the process runner's shells for the engine.
// fork() copies the parent's page tables, so its cost grows with the parent's memory: with a
// 50 MB sql.js heap a spawn takes 2.5× as long as from a bare Node process, and the engine
// spent 80 % of a 10,000-run burst in spawn(). Spawning from here keeps that cost at the floor.
// It takes {spawn} requests over IPC, answers {spawned, pid} and later {exit, code, signal,
// tail}; it exits when the engine's channel closes, leaving the (detached) runs going, as the
// engine's own exit does.
import { spawn } from 'child_process';
import type { SpawnerReply, SpawnerRequest } from './spawnerProtocol';

const send = (reply: SpawnerReply) => process.send?.(reply);
/** Read once: each read of process.env asks the C environment again, key by key. */
const baseEnv = { ...process.env };

process.on('message', (req: SpawnerRequest) => {
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(req.file, req.args, {
      cwd: req.cwd,
      env: { ...baseEnv, ...req.env },
      detached: true,
      // Only ever the POSIX wrapper, whose first act sends both outputs to the run's file: all
      // that can reach a pipe is the shell's own complaint before that (on stderr). One pipe a
      // run, not two: each is a pair of descriptors, a poll registration and a close to wait for.
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    return send({ t: 'error', id: req.id, message: (err as Error).message });
  }
  let tail = '';
  const keep = (d: string) => {
    tail = (tail + d).slice(-req.tailChars);
  };
  child.stderr!.setEncoding('utf8').on('data', keep);
  let failed = false;
  child.on('error', (err) => {
    failed = true;
    send({ t: 'error', id: req.id, message: err.message });
  });
  if (child.pid !== undefined) send({ t: 'spawned', id: req.id, pid: child.pid });
  child.on('close', (code, signal) => {
    if (!failed) send({ t: 'exit', id: req.id, code, signal, tail });
  });
});

process.on('disconnect', () => process.exit(0));
