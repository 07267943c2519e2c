// Refreshes the README's pictures from the last e2e run: every `readme-<name>.png` crop a
// scenario saved under .cache/e2e-shots/ is copied to media/readme/<name>.png.
//   npm run test:e2e && npm run screenshots
'use strict';
const fs = require('fs');
const path = require('path');

const REPO = path.resolve(__dirname, '../..');
const SHOTS = path.join(REPO, '.cache', 'e2e-shots');
const OUT = path.join(REPO, 'media', 'readme');

if (!fs.existsSync(SHOTS)) {
  console.error('No screenshots yet: run `npm run test:e2e` first.');
  process.exit(1);
}
fs.mkdirSync(OUT, { recursive: true });
let copied = 0;
for (const scenario of fs.readdirSync(SHOTS).sort()) {
  for (const file of fs.readdirSync(path.join(SHOTS, scenario))) {
    const m = /^readme-(.+\.png)$/.exec(file);
    if (!m) continue;
    fs.copyFileSync(path.join(SHOTS, scenario, file), path.join(OUT, m[1]));
    console.log(`media/readme/${m[1]}  ${(fs.statSync(path.join(OUT, m[1])).size / 1024).toFixed(1)} KiB  (from ${scenario})`);
    copied++;
  }
}
if (!copied) {
  console.error('No readme-*.png crops found under .cache/e2e-shots/.');
  process.exit(1);
}
