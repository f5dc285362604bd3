/**
 * `npm run bench [-- name...]`: runs the named benchmarks (all that exist when none is named).
 * Each name maps to files in bench/ that export `run()`; every benchmark prints its own
 * numbers next to a reference measured in the same run, so results compare across machines.
 *
 *     npm run bench -- api          # HTTP API vs a bare Fastify route
 *     npm run bench -- sip media    # parser, registrations; RTP relay
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { register } from 'node:module';

/**
 * The server code under test is the compiled build, as `npm start` runs it (`bench/compiled-src.mjs`);
 * `BENCH_SOURCE=ts` measures the TypeScript sources through tsx instead.
 */
function useCompiledBuild(): void {
  if (process.env.BENCH_SOURCE === 'ts') return;
  const built = spawnSync(process.execPath, [new URL('../scripts/build.mjs', import.meta.url).pathname], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('bench: npm run build failed');
  register('./compiled-src.mjs', import.meta.url);
}

/** Benchmark name → modules (relative to bench/), run in order. Missing files are skipped. */
export const BENCHMARKS: Record<string, string[]> = {
  api: ['api.ts'],
  sip: ['sip-parser.ts', 'sip-register.ts'],
  register: ['sip-register.ts'],
  'register-ab': ['register-ab.ts'],
  'calls-ab': ['calls-ab.ts'],
  calls: ['calls.ts'],
  media: ['media-passthrough.ts', 'media-relay.ts', 'media-srtp.ts'],
  'media-srtp': ['media-srtp.ts'],
  idle: ['idle.ts'],
  bindings: ['sip-bindings.ts'],
  soak: ['soak.ts'],
  codecs: ['codecs.ts'],
  overload: ['overload.ts'],
  callapi: ['callapi.ts'],
  webrtc: ['webrtc.ts'],
  rooms: ['rooms-gateways.ts'],
  video: ['video.ts'],
};

interface BenchModule {
  run(): Promise<unknown> | unknown;
}

async function main(argv: string[]): Promise<number> {
  const names = argv.length > 0 ? argv : Object.keys(BENCHMARKS);
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.map((n) => `"${n}"`).join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}\n`);
    return 2;
  }
  useCompiledBuild();
  process.stdout.write(`server code: ${process.env.BENCH_SOURCE === 'ts' ? 'TypeScript sources through tsx (BENCH_SOURCE=ts)' : 'the compiled build (dist/, as npm start runs it)'}\n`);
  let ran = 0;
  for (const name of names) {
    const files = BENCHMARKS[name]!.filter((f) => existsSync(new URL(f, import.meta.url)));
    if (files.length === 0) {
      process.stdout.write(`\n== ${name}: not written yet (${BENCHMARKS[name]!.join(', ')})\n`);
      continue;
    }
    for (const file of files) {
      process.stdout.write(`\n== ${name}: bench/${file}\n`);
      const mod = (await import(new URL(file, import.meta.url).href)) as BenchModule;
      await mod.run();
      ran++;
    }
  }
  return ran > 0 || argv.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
