/**
 * Issue 12: the new SIP settings are validated at start, a bad value naming its variable.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'strowger-cfg-'));
const sip = (env: Record<string, string>) => loadConfig({ STROWGER_DATA_DIR: dir, ...env }).sip;

describe('config: DNS servers, WS origins, SNI certificates', () => {
  test('STROWGER_DNS_SERVERS: addresses with optional ports; default the system resolver', () => {
    assert.deepEqual(sip({}).dnsServers, []);
    assert.deepEqual(sip({ STROWGER_DNS_SERVERS: '10.0.0.2, 10.0.0.3:5353,[2001:db8::53]:53,2001:db8::54' }).dnsServers,
      ['10.0.0.2', '10.0.0.3:5353', '[2001:db8::53]:53', '2001:db8::54']);
    for (const bad of ['dns.example', '10.0.0.2:0', '10.0.0.2:70000']) {
      assert.throws(() => sip({ STROWGER_DNS_SERVERS: bad }), /^ConfigError: STROWGER_DNS_SERVERS: /, bad);
    }
  });

  test('STROWGER_SIP_WS_ORIGINS: unset = default policy; origins lower-cased without trailing slash; * allowed', () => {
    assert.equal(sip({}).wsOrigins, undefined);
    assert.deepEqual(sip({ STROWGER_SIP_WS_ORIGINS: 'https://Phone.Example.com/, *' }).wsOrigins, ['https://phone.example.com', '*']);
    assert.throws(() => sip({ STROWGER_SIP_WS_ORIGINS: 'phone.example.com' }), /STROWGER_SIP_WS_ORIGINS/);
  });

  test('STROWGER_SIP_TLS_CERTS: cert:key pairs of existing files', () => {
    assert.deepEqual(sip({}).tlsCertPairs, []);
    assert.throws(() => sip({ STROWGER_SIP_TLS_CERTS: '/nonexistent/c.pem:/nonexistent/k.pem' }), /STROWGER_SIP_TLS_CERTS: \/nonexistent\/c\.pem does not exist/);
    assert.throws(() => sip({ STROWGER_SIP_TLS_CERTS: 'only-one.pem' }), /is not cert\.pem:key\.pem/);
  });
});
