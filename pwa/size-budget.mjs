// Gzipped size budgets (dist/build-info.json from build.mjs lists the files):
// - the phone shell (app.js, the chunks it imports statically, app.css, sw.js) ≤ 120 KB: a phone on
//   a weak signal downloads it once;
// - the console (console.js, the chunks only it needs, console.css) ≤ 120 KB: loaded on demand by
//   desk and supervisor screens on an office PC.
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";

const info = JSON.parse(readFileSync("dist/build-info.json", "utf8"));
// The shell comes last: its line keeps the old "total: N KB" form that tests/browser/test_pwa.py reads.
const budgets = [
  ["console chunk", info.console, 120 * 1024],
  ["total", info.shell, 120 * 1024],
];
let failed = false;
for (const [name, files, budget] of budgets) {
  let total = 0;
  for (const f of files) {
    const size = gzipSync(readFileSync(`dist/${f}`), { level: 9 }).length;
    total += size;
    console.log(`  dist/${f}: ${(size / 1024).toFixed(1)} KB gzipped`);
  }
  const what = name === "total" ? "phone shell, " : "";
  console.log(`${name}: ${(total / 1024).toFixed(1)} KB gzipped (${what}budget ${budget / 1024} KB)`);
  if (total > budget) {
    console.error(`${name === "total" ? "phone shell" : name} over budget`);
    failed = true;
  }
}
if (failed) process.exit(1);
