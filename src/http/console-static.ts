/**
 * The web console's pages: plain HTML, CSS and ES modules in the package's `console/` directory, served as
 * they are (no build step, nothing fetched at run time). `/` is console/index.html; `/ui/<file>` the other
 * files. The directory is found next to the code that runs: `../../console` from src/http/ (tsx, tests)
 * or `../console` from dist/samsa.mjs (the bundle `npm start` and `npx samsa` run; package.json "files"
 * ships the directory).
 *
 * Only names in the directory listing are served (read once, at the first request): nothing in a URL
 * reaches the filesystem as a path.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

/** The console directory, or null when the package was installed without it. */
export function consoleDir(): string | null {
  for (const rel of ['../console/', '../../console/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

let assets: Promise<Map<string, { body: Buffer; type: string }>> | null = null;

async function loadAssets(): Promise<Map<string, { body: Buffer; type: string }>> {
  const dir = consoleDir();
  const out = new Map<string, { body: Buffer; type: string }>();
  if (dir === null) return out;
  for (const name of await readdir(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = TYPES[ext];
    if (type !== undefined) out.set(name, { body: await readFile(join(dir, name)), type });
  }
  return out;
}

/** Answers `/` and `/ui/<file>`; false for any other path (the caller answers 404). */
export async function serveConsoleAsset(path: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  let name: string;
  if (path === '/' || path === '/index.html') name = 'index.html';
  else if (path.startsWith('/ui/')) name = path.slice('/ui/'.length);
  else return false;
  // Loaded once; a failed load is retried at the next request.
  assets ??= loadAssets().catch((err: unknown) => {
    assets = null;
    throw err;
  });
  const files = await assets;
  const file = files.get(name);
  if (file === undefined) {
    if (files.size === 0) {
      res.writeHead(503, { 'Content-Type': 'text/plain' }).end('the console files (console/ in the samsa package) are missing from this installation\n');
      return true;
    }
    return false;
  }
  res.writeHead(200, { 'Content-Type': file.type, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }).end(req.method === 'HEAD' ? undefined : file.body);
  return true;
}
