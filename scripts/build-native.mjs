// Builds the native pass-through relay (native/udp-relay/udp_relay.c) with plain gcc: N-API
// only, so no node-gyp (which would download headers) and one binary per Node major's ABI-stable
// N-API. Run by `npm install`/`npm ci` (postinstall). Any failure — no compiler, no headers, not
// Linux — prints one warning and exits 0: the media workers then relay in JS
// (src/media/native-relay.ts says why at start-up).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, 'native', 'udp-relay');
const out = join(dir, 'build', 'udp_relay.node');

function headers() {
  const candidates = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((d) => existsSync(join(d, 'node_api.h'))) ?? null;
}

try {
  if (process.platform !== 'linux') throw new Error(`not Linux (${process.platform})`);
  const include = headers();
  if (include === null) throw new Error('node_api.h not found (install nodejs headers, e.g. Debian libnode-dev)');
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC || 'gcc';
  execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Wno-unused-parameter', '-shared', '-fPIC', '-pthread', `-I${include}`, '-o', out, join(dir, 'udp_relay.c'), '-lm'], { stdio: ['ignore', 'inherit', 'pipe'] });
  console.log(`native relay built: ${out}`);
} catch (err) {
  const lines = err && err.stderr ? err.stderr.toString().trim().split('\n') : [];
  const detail = lines.find((l) => l.includes('error')) ?? lines[0] ?? err.message;
  console.warn(`warning: native relay not built (${detail}); the media workers relay in JS`);
}
