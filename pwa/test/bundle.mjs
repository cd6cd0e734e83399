// Bundle a PWA source module (TypeScript) for Node with the esbuild the build already uses, and import it.
import { build } from "esbuild";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export async function load(entry) {
  const out = join(mkdtempSync(join(tmpdir(), "wuye-pwa-test-")), "module.mjs");
  await build({ entryPoints: [new URL(`../src/${entry}`, import.meta.url).pathname], bundle: true, format: "esm", platform: "neutral", outfile: out, logLevel: "error" });
  return import(pathToFileURL(out).href);
}
