// Builds dist/samsa.mjs: the broker (src/cli/main.ts) and its JavaScript dependencies as one ES module,
// so `npm start` runs plain JavaScript (about 0.15 s and 40 MiB less than compiling TypeScript through tsx
// at every start; bench/PROFILE.md). The log cleaner's worker thread runs the same file
// (storage/log-cleaner.ts). Native addons (@node-rs/crc32) stay in node_modules, loaded at run time.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: 'dist/samsa.mjs',
  logLevel: 'warning',
  // CommonJS packages inside an ES module bundle may call require().
  banner: { js: "import { createRequire as __samsaCreateRequire } from 'node:module'; const require = __samsaCreateRequire(import.meta.url);" },
});
