// The spawner: a small Node process that starts the process runner's shells for the engine.
// fork() copies the parent's page tables, so its cost grows with the parent's memory: with a
// 50 MB sql.js heap a spawn takes 2.5× as long as from a bare Node process, and the engine
// spent 80 % of a 10,000-run burst in spawn(). Spawning from here keeps that cost at the floor.
// It takes [{spawn}] requests over IPC, answers [{spawned, pid}] and later [{exit, code, signal}];
// it exits when the engine's channel closes, leaving the (detached) runs going, as the
// engine's own exit does.
//
// Its one thread is what a burst waits on (spawn() returns once the child has exec'd), so it
// does nothing else: the shell opens its own output file (see POSIX_WRAPPER), and replies wait
// for the end of the turn to go out together.
import { spawn } from 'child_process';
import type { SpawnerReply, SpawnerRequest } from './spawnerProtocol';

/** Read once: each read of process.env asks the C environment again, key by key. */
const baseEnv = { ...process.env };

let replies: SpawnerReply[] = [];
const flush = () => {
  const batch = replies;
  replies = [];
  process.send?.(batch);
};
const send = (reply: SpawnerReply) => {
  if (replies.length === 0) setImmediate(flush);
  replies.push(reply);
};

function start(req: SpawnerRequest): void {
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(req.file, req.args, { cwd: req.cwd, env: { ...baseEnv, ...req.env }, detached: true, stdio: 'ignore' });
  } catch (err) {
    return send({ t: 'error', id: req.id, message: (err as Error).message });
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
}

process.on('message', (batch: SpawnerRequest[]) => {
  for (const req of batch) start(req);
});

process.on('disconnect', () => process.exit(0));
