// Builds the field app into dist/: app.js + app.css (esbuild), sw.js with the precache manifest
// injected (Workbox precaching), and the static files from public/. Served by the server at /app/.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const dist = "dist";
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync("public", dist, { recursive: true });

const common = { bundle: true, minify: true, target: ["chrome90", "safari15"], legalComments: "none", logLevel: "warning" };
await esbuild.build({
  ...common,
  entryPoints: { app: "src/main.tsx" },
  outdir: dist,
  format: "esm",
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".css": "css" },
});

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}
// Every shell file with a content revision: a changed file is re-fetched, the rest stay cached.
const manifest = files(dist)
  .filter((f) => !f.endsWith(".map"))
  .map((f) => ({
    url: "/app/" + relative(dist, f).split("\\").join("/"),
    revision: createHash("sha256").update(readFileSync(f)).digest("hex").slice(0, 16),
  }));
const version = createHash("sha256").update(JSON.stringify(manifest)).digest("hex").slice(0, 12);

await esbuild.build({
  ...common,
  entryPoints: { sw: "src/sw.ts" },
  outdir: dist,
  format: "iife",
  define: { "self.__WB_MANIFEST": JSON.stringify(manifest), __SHELL_VERSION__: JSON.stringify(version) },
});
writeFileSync(join(dist, "version.json"), JSON.stringify({ version, files: manifest.length }));
console.log(`built pwa/dist: ${manifest.length} shell files, version ${version}`);
