// A child process that owns a folder and adds actions without pause while checkpoints are
// written every dozen records and snapshots every few hundred (both by workers), printing
// what it has made durable:
//   A <name>      the add of <name> returned (its journal record is fsynced)
//   C <n>         a checkpoint of record <n> started
//   K <n>         that checkpoint replaced the last one
//   S <n>         a snapshot of record <n> replaced the database (the checkpoint is stale from then)
// The checkpoint crash test SIGKILLs it at random moments after a `C` line.
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
    label: 'checkpoint host',
    webhook: false,
    snapshotPolicy: { maxJournalRecords: 400, maxJournalBytes: 1 << 30, idleMs: 1e12, cheapExportMs: 8, alwaysInWorker: true, checkpointRecords: 12 },
    log: {
      ...silentLogger,
      debug: (m: string) => {
        const started = /^checkpoint of record (\d+) started/.exec(m);
        const written = /^checkpoint of record (\d+) written/.exec(m);
        const replaced = /^snapshot of record (\d+) replaced/.exec(m);
        if (started) out(`C ${started[1]}`);
        if (written) out(`K ${written[1]}`);
        if (replaced) out(`S ${replaced[1]}`);
      },
    },
  });
  await o.start();
  for (let i = 0; ; i++) {
    const name = `${prefix}-${i}`;
    const { actions } = await o.add({ name, trigger: { kind: 'manual' }, run: { command: `echo ${name} ${'x'.repeat(300)}` } });
    out(`A ${name}`);
    if (i % 2 === 1) await o.pauseAction(actions[0].id); // state changes too, not only inserts
    if (i % 4 === 3) await new Promise((r) => setTimeout(r, 1)); // let the tick, the workers' replies and the (lowest-priority) checkpoint worker in
  }
}

main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
