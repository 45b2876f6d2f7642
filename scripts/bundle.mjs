// Builds dist/samsa.mjs: the broker (src/cli/main.ts) and its JavaScript dependencies as one ES module,
// so `npm start` runs plain JavaScript (about 0.15 s and 40 MiB less than compiling TypeScript through tsx
// at every start; bench/PROFILE.md). The log cleaner's worker thread runs the same file
// (storage/log-cleaner.ts). Native addons (@node-rs/crc32) stay in node_modules, loaded at run time.
// Also dist/embed.mjs, the package's library entry (`import { startSamsa } from 'samsa'`, src/embed.ts),
// built the same way so a user's tests need no TypeScript toolchain; its types are types/samsa.d.ts.
//
// Each file is written beside its place and renamed over it: tests build the bundle while other tests may
// be starting processes from it, and a rename never shows them a half-written file.
import { build } from 'esbuild';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  write: false,
  // CommonJS packages inside an ES module bundle may call require().
  banner: { js: "import { createRequire as __samsaCreateRequire } from 'node:module'; const require = __samsaCreateRequire(import.meta.url);" },
};

async function bundle(entry, outfile) {
  const result = await build({ ...common, entryPoints: [entry], outfile });
  for (const file of result.outputFiles) {
    await mkdir(dirname(file.path), { recursive: true });
    const tmp = `${file.path}.${process.pid}.tmp`;
    await writeFile(tmp, file.contents);
    await rename(tmp, file.path);
  }
}

await Promise.all([bundle('src/cli/main.ts', 'dist/samsa.mjs'), bundle('src/embed.ts', 'dist/embed.mjs')]);
