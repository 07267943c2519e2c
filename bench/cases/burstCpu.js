// Where a burst's CPU goes: `node cases/burstCpu.js SYSTEM` (engine+process | spawn floor).
// The 10,000-run burst of cases/schedule.js, with the CPU time of each part read from /proc
// (Linux only) from the due time to the last end: the owner's process (or the floor's), the
// spawner process, the shells (the spawner's children, or the floor's), and the whole machine.
// On 2 cores a burst is bound by CPU: a part's CPU-seconds are what it takes from the others.
'use strict';
const fs = require('fs');
const systems = require('../systems');
const { core } = require('../lib');

const TICK = 100; // clock ticks a second (USER_HZ), 100 on Linux

function machineBusy() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6]) / TICK; // user nice system irq softirq
}

/** CPU seconds of the process itself and of its children it has waited for. */
function processCpu(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
  return { self: (f[11] + f[12]) / TICK, children: (f[13] + f[14]) / TICK };
}

(async () => {
  const system = process.argv[2];
  if (process.platform !== 'linux') {
    process.stdout.write(JSON.stringify({ system, error: 'needs /proc (Linux)' }) + '\n');
    return;
  }
  const { spawner } = core('spawner/spawner');
  const due = Date.now() + 3000;
  const dues = Array.from({ length: 10_000 }, () => due);
  let at0;
  setTimeout(() => (at0 = { machine: machineBusy(), own: processCpu(process.pid) }), due - Date.now() - 2);
  // The spawners' figures are read until each ends (an extra one retires, the first ends with
  // the engine's stop): the last reading of each counts.
  const helpers = new Map();
  const watch = setInterval(() => {
    for (const pid of spawner.pids) {
      try {
        helpers.set(pid, processCpu(pid));
      } catch {
        // gone
      }
    }
  }, 20);
  const run = system === 'engine+process' ? (d) => systems.engineWith(d, { process: true }) : systems[system];
  const result = await run(dues);
  clearInterval(watch);
  const own = processCpu(process.pid);
  const out = {
    system,
    wallMs: result.finishedAt - due,
    machineCpuS: machineBusy() - at0.machine,
    ownCpuS: own.self - at0.own.self,
    helpers: helpers.size,
    helperCpuS: [...helpers.values()].reduce((t, h) => t + h.self, 0),
    shellsCpuS: helpers.size ? [...helpers.values()].reduce((t, h) => t + h.children, 0) : own.children - at0.own.children,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
