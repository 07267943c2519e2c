#!/usr/bin/env node
// Entry point of the headless orchestrator; the program itself is compiled from src/cli.
'use strict';
require('../out/src/cli/main.js').main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`sdlc-orchestrator: ${err && err.stack ? err.stack : err}\n`); process.exitCode = 1; },
);
