// How late a wake-up at a due time comes, alone (no database, nothing started):
//   node cases/wake.js setTimeout|precise
// 300 due times 5–15 ms apart, as the tick loop sets them (whole Date.now() milliseconds);
// lateness is measured on the high-resolution clock. `precise` is the engine's worker-thread
// wake-up (src/core/preciseWake.ts); setTimeout is what every other system here uses.
'use strict';
const { core, stats } = require('../lib');

const nowMs = () => performance.timeOrigin + performance.now();

(async () => {
  const mode = process.argv[2];
  const { wakeAt } = core('preciseWake');
  const late = [];
  const keep = setInterval(() => {}, 1 << 30); // the precise worker never keeps a process alive
  for (let i = 0; i < 300; i++) {
    const due = Date.now() + 5 + Math.round(Math.random() * 10);
    await new Promise((resolve) => {
      const fire = () => {
        late.push(nowMs() - due);
        resolve();
      };
      if (mode === 'precise') wakeAt(due, fire);
      else setTimeout(fire, due - Date.now());
    });
  }
  clearInterval(keep);
  process.stdout.write(JSON.stringify({ mode, ...stats(late) }) + '\n');
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exit(1);
});
