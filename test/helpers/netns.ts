/**
 * WebRTC tests run in a loopback-only network namespace: ICE (werift's and Chromium's) gathers
 * host candidates on every interface and sends checks from them, which must not leave this
 * machine. A test file calls `inLoopbackNamespace(import.meta.url)` at its top:
 * outside a namespace it runs itself again under `unshare --net` (loopback up) and reports that
 * run as one test; inside, it returns true and the file's own tests run.
 *
 * @example
 * if (inLoopbackNamespace(import.meta.url)) {
 *   describe('werift peer in a room', () => { … });
 * }
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const INSIDE = 'STROWGER_TEST_NETNS';

/** Whether `unshare --net` works here (root, or user namespaces allowed). */
export function canUnshareNet(): boolean {
  const probe = spawnSync('unshare', ['--net', 'true'], { stdio: 'ignore' });
  return probe.status === 0;
}

/** True inside the namespace (run the tests); false outside, after scheduling the inner run. */
export function inLoopbackNamespace(fileUrl: string, timeoutMs = 600_000): boolean {
  if (process.env[INSIDE] === '1') return true;
  const file = fileURLToPath(fileUrl);
  test(`${file.split('/').pop()} in a loopback-only network namespace`, { skip: canUnshareNet() ? false : 'unshare --net not permitted here', timeout: timeoutMs }, () => {
    const inner = spawnSync('unshare', ['--net', 'bash', '-c', 'ip link set lo up && exec "$0" "$@"',
      process.execPath, '--import', 'tsx', '--test', '--test-reporter=spec', file], {
      // Without NODE_TEST_CONTEXT: node --test in a child of a test would skip running the file.
      env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), [INSIDE]: '1' },
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    const output = `${inner.stdout ?? ''}${inner.stderr ?? ''}`;
    process.stdout.write(output.split('\n').map((line) => `# ${line}`).join('\n') + '\n');
    assert.equal(inner.status, 0, `inner run failed (status ${inner.status}, signal ${inner.signal})\n${output.slice(-4000)}`);
  });
  return false;
}
