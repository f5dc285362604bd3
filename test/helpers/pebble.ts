/**
 * Pebble, Let's Encrypt's ACME (RFC 8555) test server (Debian package `pebble`), as the CA of
 * ACME tests: it runs the real protocol (JWS, accounts, orders, HTTP-01 validation by fetching
 * `http://<domain>:<httpPort>/.well-known/acme-challenge/<token>` from the server under test,
 * finalize, certificate download). Its directory is HTTPS with a certificate made here
 * (`caFile`: trust it through STROWGER_ACME_CA_FILE).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateSelfSignedCert } from '../../src/sip/tls-self-signed.ts';
import { getFreePort } from './sipp.ts';

export const hasPebble = spawnSync('pebble', ['-h'], { stdio: 'ignore' }).error === undefined;

export interface Pebble {
  directoryUrl: string;
  /** PEM file of the certificate of Pebble's HTTPS listener. */
  caFile: string;
  /** Everything Pebble logged (validation attempts show up here). */
  log(): string;
  close(): Promise<void>;
}

/** Makes the HTTPS certificate Pebble will present (call before the server under test starts: it reads caFile then). */
export async function preparePebble(): Promise<{ dir: string; caFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pebble-'));
  await loadOrCreateSelfSignedCert({ dir, commonName: 'localhost', altNames: ['127.0.0.1'], keyType: 'ec' });
  return { dir, caFile: join(dir, 'sip-tls.crt') };
}

/** Starts Pebble validating HTTP-01 on `httpPort` (the server under test's HTTP port). */
export async function startPebble(prepared: { dir: string; caFile: string }, httpPort: number): Promise<Pebble> {
  const port = await getFreePort('tcp');
  const mgmt = await getFreePort('tcp');
  const config = join(prepared.dir, 'pebble.json');
  writeFileSync(config, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`, managementListenAddress: `127.0.0.1:${mgmt}`,
      certificate: prepared.caFile, privateKey: join(prepared.dir, 'sip-tls.key'),
      httpPort, tlsPort: await getFreePort('tcp'), ocspResponderURL: '', externalAccountBindingRequired: false,
    },
  }));
  // NOSLEEP: validate at once; NONCEREJECT=0: no deliberate badNonce errors; AUTHZREUSE=0: every order validates anew.
  const child: ChildProcess = spawn('pebble', ['-config', config], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  const deadline = Date.now() + 10_000;
  while (!log.includes('Listening on')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`pebble did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    directoryUrl: `https://127.0.0.1:${port}/dir`,
    caFile: prepared.caFile,
    log: () => log,
    close: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(prepared.dir, { recursive: true, force: true });
    },
  };
}
