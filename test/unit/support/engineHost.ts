// A child process that hosts one real orchestrator (process runner, real files) and takes
// requests over IPC, so a test can SIGKILL it at any moment and start another: the property
// test's "crash". Replies carry what the engine answered; errors its message.
import { Orchestrator } from '../../../src/core/orchestrator';
import { ProcessRunner } from '../../../src/core/processRunner';
import { streamLogger } from '../../../src/core/log';

interface Ask {
  id: number;
  op: 'add' | 'cancel' | 'runNow' | 'pauseAction' | 'resumeAction' | 'remove' | 'role' | 'stop';
  arg?: unknown;
}

async function main(): Promise<void> {
  const workspace = process.argv[2];
  const errors: string[] = [];
  const log = streamLogger(process.stderr, 'error');
  const o = await Orchestrator.create({
    workspace,
    runners: { process: new ProcessRunner({ killGraceMs: 200 }) },
    tickMs: 50,
    leaseStaleMs: 2000,
    label: 'host',
    log: { ...log, error: (m: string, e?: unknown) => (errors.push(`${m}: ${(e as Error)?.message ?? ''}`), log.error(m, e)) },
  });
  await o.start();
  process.on('message', async (msg: Ask) => {
    try {
      let result: unknown;
      if (msg.op === 'role') result = { role: o.currentRole, errors };
      else if (msg.op === 'stop') {
        await o.stop({ graceMs: 0 });
        result = { errors };
      } else result = await (o[msg.op] as (a: unknown) => Promise<unknown>).call(o, msg.arg);
      process.send!({ id: msg.id, ok: true, result });
      if (msg.op === 'stop') process.exit(0);
    } catch (err) {
      process.send!({ id: msg.id, ok: false, error: (err as Error).message });
    }
  });
  process.send!({ ready: true });
}

void main();
