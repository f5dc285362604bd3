/**
 * Issue 12, RFC 3263: trunks given as host names are located through a real DNS server
 * (dnsmasq on a free port, STROWGER_DNS_SERVERS) and a failed target hands the INVITE to the
 * next one (§4.3).
 * - SRV over TCP: the first (higher priority) target is a port nobody listens on (the dial
 *   fails: transport error), the call goes through the second, a sipp UAS.
 * - NAPTR → SRV over UDP: the first target answers 503, the call goes through the second.
 * Which target got the INVITE is read from each sipp's message log.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../helpers/server.ts';
import { getFreePort, runSipp, startSippServer, type SippServer } from '../helpers/sipp.ts';
import { startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.ts';
import { api, assertIdle, cdrCount, did, inboundTrunk, nextCdr, route, startCallServer, trunkCall } from './call-fixtures.ts';

const DID = '+15551230300';
const FORWARD_TO = '+15559990300';

describe('RFC 3263: trunk host resolved by NAPTR/SRV with failover', () => {
  let t: TestServer;
  let dns: Dnsmasq;
  let tcpUas: SippServer;
  let busyUas: SippServer;
  let udpUas: SippServer;
  let deadPort: number;
  let trunkId: number;

  before(async () => {
    deadPort = await getFreePort('tcp');
    tcpUas = await startSippServer({ scenario: 'uas-answer.xml', transport: 't1' });
    busyUas = await startSippServer({ scenario: 'uas-unavailable.xml' });
    udpUas = await startSippServer({ scenario: 'uas-answer.xml' });
    dns = await startDnsmasq({
      hosts: [['dead.trunk.test', '127.0.0.1'], ['live.trunk.test', '127.0.0.1'], ['busy.carrier.test', '127.0.0.1'], ['live.carrier.test', '127.0.0.1']],
      srv: [
        { name: '_sip._tcp.trunk.test', target: 'dead.trunk.test', port: deadPort, priority: 10, weight: 100 },
        { name: '_sip._tcp.trunk.test', target: 'live.trunk.test', port: tcpUas.port, priority: 20, weight: 100 },
        { name: '_sip._udp.carrier.test', target: 'busy.carrier.test', port: busyUas.port, priority: 10, weight: 100 },
        { name: '_sip._udp.carrier.test', target: 'live.carrier.test', port: udpUas.port, priority: 20, weight: 100 },
      ],
      naptr: [{ name: 'carrier.test', order: 10, preference: 10, service: 'SIP+D2U', replacement: '_sip._udp.carrier.test' }],
    });
    t = await startCallServer(25400, { STROWGER_DNS_SERVERS: dns.server });
    await inboundTrunk(t);
    const didId = await did(t, DID);
    await route(t, didId, { action: 'forward', action_data: { number: FORWARD_TO } });
    trunkId = (await api(t, 'POST', '/api/trunks', { name: 'by-srv', host: 'trunk.test', port: null, transport: 'tcp', default: true })).id;
  });
  after(async () => {
    await Promise.all([tcpUas.stop(), busyUas.stop(), udpUas.stop()]);
    await t.close();
    await dns.stop();
  });
  afterEach(() => assertIdle(t));

  /** A call from the inbound trunk's host forwarded out through the DNS trunk: answered, CDR says so. */
  async function answeredCall(from: string): Promise<void> {
    const n = await cdrCount(t);
    const r = await runSipp(trunkCall(t, DID, from, { scenario: 'uac', pauseMs: 300 }));
    assert.equal(r.exitCode, 0, r.errors);
    assert.equal((await nextCdr(t, n)).disposition, 'answered');
  }

  test('SRV over TCP: the first target refuses the connection, the second answers', async () => {
    const trunk = await api(t, 'GET', `/api/trunks/${trunkId}`);
    assert.equal(trunk.port, null);
    assert.equal(trunk.transport, 'tcp');
    await answeredCall('+15550100301');
    // The live target got the INVITE, addressed by the SRV owner name without a port.
    const uas = await tcpUas.stop();
    assert.match(uas.messages, new RegExp(`INVITE sip:${FORWARD_TO.replace('+', '\\+')}@trunk\\.test SIP/2\\.0`));
  });

  test('NAPTR → SRV over UDP: the first target answers 503, the second answers', async () => {
    await api(t, 'PUT', `/api/trunks/${trunkId}`, { host: 'carrier.test', transport: null, port: null });
    await answeredCall('+15550100302');
    const busy = await busyUas.stop();
    const live = await udpUas.stop();
    const invites = (log: string) => (log.match(/^INVITE sip:/gm) ?? []).length;
    assert.equal(invites(busy.messages), 1, 'the priority-10 target got the INVITE first and said 503');
    assert.equal(invites(live.messages), 1, 'then the priority-20 target');
    // The retried INVITE is a new transaction (RFC 3263 §4.3: new branch), same Call-ID.
    const callId = (log: string) => /^Call-ID: *(.+)$/im.exec(log)?.[1]?.trim();
    assert.equal(callId(busy.messages), callId(live.messages));
  });
});
