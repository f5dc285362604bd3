// Compiles src/**/*.ts to dist/**/*.js, file by file (no bundling), so `npm start` runs plain
// JavaScript: no TypeScript loader in the main thread or in each media worker (~80 MB of idle
// RSS). Relative `.ts` specifiers become `.js`; the project imports with explicit extensions.
import { build } from 'esbuild';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'src');
const out = join(root, 'dist');

function files(dir, ext) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) found.push(...files(p, ext));
    else if (p.endsWith(ext)) found.push(p);
  }
  return found;
}

rmSync(out, { recursive: true, force: true });
await build({ entryPoints: files(src, '.ts'), outdir: out, outbase: src, format: 'esm', platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning' });
const relativeTs = /((?:from|import)\s*\(?\s*|new URL\(\s*)(["'])(\.{1,2}\/[^"']+)\.ts\2/g;
for (const file of files(out, '.js')) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(relativeTs, '$1$2$3.js$2');
  if (rewritten !== text) writeFileSync(file, rewritten);
}
