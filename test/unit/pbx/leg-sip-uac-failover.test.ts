/**
 * Issue 12, RFC 3263 §4.3 in the UAC leg: the INVITE moves to the next target on a transport
 * error, a Timer B timeout (a 408 the transaction made up) or a 503, as a new transaction with
 * the same Call-ID; a 408 or 486 from the server itself is an answer and ends the fork.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SendTarget } from '../../../src/sip/transport-types.ts';
import { startCall } from './call-harness.ts';

const TARGETS: SendTarget[] = [
  { protocol: 'udp', address: '192.0.2.1', port: 5060 },
  { protocol: 'tcp', address: '192.0.2.2', port: 5070 },
  { protocol: 'udp', address: '192.0.2.3', port: 5080 },
];
const env = { sendTargetsFor: async () => TARGETS };

describe('UAC leg failover (RFC 3263 §4.3)', () => {
  test('Timer B, transport error, then an answer from the third target', async () => {
    const h = await startCall({ env });
    h.endpoint.sent('INVITE')[0]!.respond(408, { local: 'timeout' });
    h.endpoint.sent('INVITE')[1]!.respond(503, { local: 'transport_error' });
    const invites = h.endpoint.sent('INVITE');
    assert.deepEqual(invites.map((r) => r.target.address), ['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    assert.equal(new Set(invites.map((r) => r.msg.callId)).size, 1, 'same call');
    assert.equal(new Set(invites.map((r) => r.msg.via[0]!.branch)).size, 3, 'a new transaction each time');
    assert.match(invites[1]!.msg.getHeader('contact') ?? '', /transport=tcp/, 'rebuilt for the new target');
    assert.equal(h.call.forks[0]!.target.address, '192.0.2.3');
    assert.equal(h.caller.replies.filter((r) => r.status >= 300).length, 0);
  });

  test('503 from the last target: the caller gets 503', async () => {
    const h = await startCall({ env });
    for (let i = 0; i < 3; i++) h.endpoint.sent('INVITE')[i]!.respond(503);
    await h.settle();
    assert.equal(h.endpoint.sent('INVITE').length, 3);
    assert.equal(h.caller.replies.at(-1)!.status, 503);
  });

  for (const status of [408, 486]) {
    test(`${status} from the server is its answer: no failover`, async () => {
      const h = await startCall({ env });
      h.endpoint.sent('INVITE')[0]!.respond(status);
      await h.settle();
      assert.equal(h.endpoint.sent('INVITE').length, 1);
      assert.equal(h.caller.replies.at(-1)!.status, status === 408 ? 408 : 486);
    });
  }
});
