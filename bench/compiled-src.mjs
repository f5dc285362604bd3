// Module resolve hook for `npm run bench`: imports of `src/**/*.ts` load `dist/**/*.js`, the
// build `npm start` runs (scripts/build.mjs). Under tsx every function our code creates also
// runs esbuild's `keepNames` helper (`__name`, a defineProperty per closure), so a benchmark of
// the TypeScript sources measures a server nobody runs. The bench files themselves stay TS.
const SRC = new URL('../src/', import.meta.url).href;
const DIST = new URL('../dist/', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  const r = await nextResolve(specifier, context);
  if (r.url.startsWith(SRC) && r.url.endsWith('.ts')) {
    return { ...r, url: DIST + r.url.slice(SRC.length, -3) + '.js', format: 'module' };
  }
  return r;
}
