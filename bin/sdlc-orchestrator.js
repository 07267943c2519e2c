#!/usr/bin/env node
// Entry point of the headless orchestrator; the program itself is compiled from src/cli.
'use strict';
// Node 20 waits for V8's background jobs whenever its event loop runs dry (while WebAssembly
// compiles, and at the end); a TurboFan job that needs the main thread to collect garbage then
// waits forever for it (NodePlatform::DrainTasks), and a short command such as `verify` hangs
// after it is done. So the loop never runs dry while a command works, and the process exits
// as soon as the command is done and its output is written.
const awake = setInterval(() => {}, 1 << 30);

function exit(code) {
  clearInterval(awake);
  const writing = [process.stdout, process.stderr].filter((s) => s.writableLength > 0);
  let left = writing.length;
  if (!left) process.exit(code);
  for (const s of writing) s.once('drain', () => --left === 0 && process.exit(code));
}

require('../out/src/cli/main.js').main(process.argv.slice(2)).then(exit, (err) => {
  process.stderr.write(`sdlc-orchestrator: ${err && err.stack ? err.stack : err}\n`);
  exit(1);
});
