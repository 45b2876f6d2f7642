#!/usr/bin/env node
// The `samsa` command (package.json "bin"): runs the bundle dist/samsa.mjs, the broker and its JavaScript
// dependencies in one file built by scripts/bundle.mjs (npm runs it as the `prepare` script on install
// from a clone or a folder, and before packing), so no TypeScript toolchain is needed at run time.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/samsa.mjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write(`samsa: ${bundle} is missing; build it with \`npm run bundle\` in the samsa directory\n`);
  process.exit(1);
}
await import(pathToFileURL(bundle).href);
