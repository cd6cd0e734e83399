// The shell's JS+CSS must stay within 120 KB gzipped (a phone on a weak signal downloads it once).
import { gzipSync } from "node:zlib";
import { readFileSync } from "node:fs";

const BUDGET = 120 * 1024;
const shell = ["dist/app.js", "dist/app.css", "dist/sw.js"];
let total = 0;
for (const f of shell) {
  const size = gzipSync(readFileSync(f), { level: 9 }).length;
  total += size;
  console.log(`${f}: ${(size / 1024).toFixed(1)} KB gzipped`);
}
console.log(`total: ${(total / 1024).toFixed(1)} KB gzipped (budget ${BUDGET / 1024} KB)`);
if (total > BUDGET) {
  console.error("over budget");
  process.exit(1);
}
