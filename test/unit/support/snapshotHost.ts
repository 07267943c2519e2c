// A child process that owns a folder and adds actions without pause while snapshots are
// written by the worker path every few dozen commits, printing what it has made durable:
//   A <name>      the add of <name> returned (its journal record is fsynced)
//   S <n>         a worker snapshot of record <n> started
//   R <n>         that snapshot replaced the database (the journal still holds everything)
//   D <n>         the journal dropped what the snapshot holds
// The snapshot crash test SIGKILLs it at random moments after an `S` line.
import { Orchestrator } from '../../../src/core/orchestrator';
import { silentLogger } from '../../../src/core/log';
import { ProcessRunner } from '../../../src/core/processRunner';

async function main(): Promise<void> {
  const [workspace, prefix] = process.argv.slice(2);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const o = await Orchestrator.create({
    workspace,
    runners: { process: new ProcessRunner() },
    tickMs: 20,
    label: 'snapshot host',
    webhook: false,
    snapshotPolicy: { maxJournalRecords: 25, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: 8, alwaysInWorker: true },
    log: {
      ...silentLogger,
      debug: (m: string) => {
        const started = /^snapshot of record (\d+) started/.exec(m);
        const replaced = /^snapshot of record (\d+) replaced/.exec(m);
        const done = /^snapshot of record (\d+) written/.exec(m);
        if (started) out(`S ${started[1]}`);
        if (replaced) out(`R ${replaced[1]}`);
        if (done) out(`D ${done[1]}`);
      },
    },
  });
  await o.start();
  for (let i = 0; ; i++) {
    const name = `${prefix}-${i}`;
    // A few hundred bytes of definition each, so the database grows and a snapshot takes a while.
    await o.add({ name, trigger: { kind: 'manual' }, run: { command: `echo ${name} ${'x'.repeat(300)}` } });
    out(`A ${name}`);
    if (i % 4 === 3) await new Promise((r) => setImmediate(r)); // let the tick (and the snapshot's steps) in
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
