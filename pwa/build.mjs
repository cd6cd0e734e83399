// Builds the field app into dist/: app.js + app.css (esbuild, ESM with code splitting), the console
// (desk and supervisor screens) as its own lazily loaded console.js + console.css, sw.js with the
// precache manifest injected (Workbox precaching), and the static files from public/. Served by the
// server at /app/. dist/build-info.json says which files make up the phone shell and the console,
// for size-budget.mjs.
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";

const dist = "dist";
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync("public", dist, { recursive: true });

const common = { bundle: true, minify: true, target: ["chrome90", "safari15"], legalComments: "none", logLevel: "warning" };
const result = await esbuild.build({
  ...common,
  // console.tsx is loaded by main.tsx through import(): naming it an entry point gives it a stable
  // file name (console.js, console.css) instead of a hashed chunk name.
  entryPoints: { app: "src/main.tsx", console: "src/console/console.tsx" },
  outdir: dist,
  format: "esm",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  metafile: true,
  jsx: "automatic",
  jsxImportSource: "preact",
  loader: { ".css": "css" },
});

/** An output file with every file it imports statically (what the browser must load before it runs). */
function closure(file, outputs, seen = new Set()) {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const imp of outputs[file]?.imports ?? []) {
    if (imp.kind === "import-statement") closure(imp.path, outputs, seen);
  }
  return seen;
}
const outputs = result.metafile.outputs;
const shellJs = closure(`${dist}/app.js`, outputs);
const consoleJs = [...closure(`${dist}/console.js`, outputs)].filter((f) => !shellJs.has(f));
const cssOf = (files) => [...files].map((f) => outputs[f]?.cssBundle).filter(Boolean);

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}
// Every built file with a content revision (the console chunks too, so a desk PC that opened the
// app once also starts from cache): a changed file is re-fetched, the rest stay cached.
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
const rel = (f) => relative(dist, f).split("\\").join("/");
writeFileSync(
  join(dist, "build-info.json"),
  JSON.stringify({
    shell: [...shellJs, ...cssOf(shellJs), `${dist}/sw.js`].map(rel),
    console: [...consoleJs, ...cssOf([`${dist}/console.js`])].map(rel),
  }),
);
writeFileSync(join(dist, "version.json"), JSON.stringify({ version, files: manifest.length }));
// Precompressed copies of the text files, served by the server when the browser accepts them
// (server/web/compression.py): brotli at its best quality is too slow per request, ~20% smaller than
// what the server would compress on the fly. Written last, so the precache manifest names only the
// originals (the browser decodes; the worker stores the decoded bytes).
let precompressed = 0;
for (const f of files(dist).filter((f) => /\.(js|css|html|svg|json)$/.test(f))) {
  const raw = readFileSync(f);
  if (raw.length < 512) continue; // the server does not compress these either (MINIMUM_SIZE)
  const br = brotliCompressSync(raw, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length },
  });
  const gz = gzipSync(raw, { level: 9 });
  if (br.length < raw.length) writeFileSync(`${f}.br`, br);
  if (gz.length < raw.length) writeFileSync(`${f}.gz`, gz);
  precompressed++;
}
console.log(`built pwa/dist: ${manifest.length} shell files (${precompressed} precompressed as .br and .gz), version ${version}`);
