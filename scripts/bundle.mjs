// Builds dist/: the broker and its JavaScript dependencies as ES modules, so `npm start` runs plain
// JavaScript (about 0.15 s and 40 MiB less than compiling TypeScript through tsx at every start;
// bench/PROFILE.md). Native addons (@node-rs/crc32) stay in node_modules, loaded at run time.
//
//   dist/samsa.mjs           the command line (src/cli/main.ts): `npm start`, bin/samsa.js
//   dist/embed.mjs           the package's library entry (`import { startSamsa } from 'samsa'`, src/embed.ts),
//                            built the same way so a user's tests need no TypeScript toolchain; its types
//                            are types/samsa.d.ts
//   dist/embed.cjs           the same library entry as CommonJS, for `require('samsa')` (package.json
//                            exports "require"): jest runs test files as CommonJS unless started with
//                            --experimental-vm-modules, and cannot load an ES module then. One file (esbuild
//                            splits ES modules only), its optional parts still evaluated only when used;
//                            import.meta.url is the file's own URL, as code finding files beside it expects
//   dist/cleaner-worker.mjs  the log cleaner's worker thread (storage/log-cleaner.ts startWorker)
//   dist/chunk-HASH.mjs      code shared by the entries, and each part that src/app.ts imports only when
//                            switched on (schema registry, HTTP listener and console, KRaft, pino-pretty,
//                            the zstd compressor): esbuild's code splitting (ESM only). A process compiles
//                            only the files it imports: the embedded broker's start was mostly compiling
//                            a 2.7 MB single-file bundle (bench/results/embed-start.md).
//
// All files sit side by side in dist/ (no chunks/ directory): code that finds files relative to its own
// import.meta.url (console-static.ts's ../console, log-cleaner.ts's worker, crc32c.ts's require) finds
// them the same from whichever file esbuild put it in.
//
// Each file is written beside its place and renamed over it, chunks before the entries that import them:
// tests build the bundle while other tests may be starting processes from it, and a rename never shows
// them a half-written file. Chunk names carry a hash of their content, so an unchanged source rebuilds
// to the same names; chunks no longer produced are removed afterwards (a process started from the
// previous build that has not yet loaded a lazy chunk could miss it, which needs the sources to change
// during a test run).
import { build } from 'esbuild';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';

const OUT = resolve('dist');
const ENTRIES = { samsa: 'src/cli/main.ts', embed: 'src/embed.ts', 'cleaner-worker': 'storage/cleaner-worker.ts' };

const result = await build({
  entryPoints: ENTRIES,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  write: false,
  outdir: OUT,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  outExtension: { '.js': '.mjs' },
  // CommonJS packages inside an ES module bundle may call require(); every output file gets its own.
  banner: { js: "import { createRequire as __samsaCreateRequire } from 'node:module'; const require = __samsaCreateRequire(import.meta.url);" },
});

const cjs = await build({
  entryPoints: ['src/embed.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  write: false,
  outfile: resolve(OUT, 'embed.cjs'),
  define: { 'import.meta.url': '__samsaImportMetaUrl' },
  banner: { js: "const __samsaImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});

await mkdir(OUT, { recursive: true });
const entryFiles = new Set(Object.keys(ENTRIES).map((name) => `${name}.mjs`));
const isEntry = (file) => entryFiles.has(basename(file.path));
const write = async (file) => {
  const tmp = `${file.path}.${process.pid}.tmp`;
  await writeFile(tmp, file.contents);
  await rename(tmp, file.path);
};
await Promise.all(result.outputFiles.filter((f) => !isEntry(f)).map(write));
await Promise.all([...result.outputFiles.filter(isEntry), ...cjs.outputFiles].map(write));

const produced = new Set(result.outputFiles.map((f) => basename(f.path)));
for (const name of await readdir(OUT)) {
  if (/^chunk-[A-Z0-9]+\.mjs$/.test(name) && !produced.has(name)) await rm(resolve(OUT, name), { force: true });
}
