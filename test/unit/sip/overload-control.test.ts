/**
 * Overload control (issue 12, "Overload control"): the controller fed injected samples of
 * event-loop utilization and lag, and the real probe measuring a loop we block on purpose.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { OverloadControl, type Admission, type LoadSample } from '../../../src/sip/overload-control.ts';
import { eventLoopProbe, retransmissionProbe } from '../../../src/sip/overload-probe.ts';
import { InviteWaitQueue, standingProbe } from '../../../src/sip/invite-wait-queue.ts';
import { SipEndpoint, type IncomingRequest } from '../../../src/sip/endpoint.ts';
import type { TransportLayer } from '../../../src/sip/transport-layer.ts';

const busy: LoadSample = { utilization: 1, lagMs: 5 };
const idle: LoadSample = { utilization: 0.2, lagMs: 1 };

function decisions(c: OverloadControl, n: number, invite = true, pending = 0): Admission[] {
  return Array.from({ length: n }, () => c.admit(invite, pending));
}

describe('OverloadControl', () => {
  test('takes everything while the loop is below its target utilization', () => {
    const c = new OverloadControl();
    for (let i = 0; i < 20; i++) c.update({ utilization: 0.85, lagMs: 20 });
    assert.equal(c.shedShare, 0);
    assert.equal(c.active(0), false);
    assert.deepEqual(new Set(decisions(c, 100)), new Set(['accept']));
  });

  test('a saturated loop raises the shed share by gain x error per sample; decisions follow it exactly', () => {
    const c = new OverloadControl({ targetUtilization: 0.9, gain: 2.5, smoothing: 1, maxShare: 1 });
    c.update(busy); // +0.25
    assert.ok(Math.abs(c.shedShare - 0.25) < 1e-9, String(c.shedShare));
    assert.equal(c.active(0), true);
    const d = decisions(c, 8);
    assert.deepEqual(d, ['accept', 'accept', 'accept', 'reject', 'accept', 'accept', 'accept', 'reject']);
    c.update(busy); // 0.5
    assert.deepEqual(decisions(c, 4).filter((x) => x === 'reject').length, 2);
    for (let i = 0; i < 10; i++) c.update(busy);
    assert.equal(c.shedShare, 1, 'clamped at maxShare');
    assert.deepEqual(new Set(decisions(c, 10)), new Set(['reject']));
    assert.equal(c.counters.rejected, 2 + 2 + 10);
    assert.equal(c.counters.dropped, 0);
  });

  test('settles where utilization meets the target and lets go once the load is gone', () => {
    const c = new OverloadControl({ targetUtilization: 0.9, gain: 1, smoothing: 1, maxDecrease: 1 });
    for (let i = 0; i < 5; i++) c.update(busy);
    const held = c.shedShare;
    assert.ok(held > 0.4, String(held));
    c.update({ utilization: 0.9, lagMs: 5 });
    assert.equal(c.shedShare, held, 'on target: unchanged');
    // Load stops: within two samples (0.2 s at the default period) nothing is shed.
    c.update(idle);
    c.update(idle);
    assert.equal(c.shedShare, 0);
    assert.equal(c.active(0), false);
    assert.deepEqual(new Set(decisions(c, 10)), new Set(['accept']));
  });

  test('lag above the limit raises the share while the loop is busy, never lowers it; a starved idle loop\'s lag is ignored', () => {
    const c = new OverloadControl({ targetUtilization: 0.9, maxLagMs: 50, lagStep: 0.2, gain: 1, smoothing: 1, maxDecrease: 1 });
    c.update({ utilization: 0.3, lagMs: 400 });
    assert.equal(c.shedShare, 0, 'lag with an idle loop: other processes took the CPU');
    c.update({ utilization: 0.8, lagMs: 120 });
    assert.ok(Math.abs(c.shedShare - 0.2) < 1e-9, String(c.shedShare));
    c.update({ utilization: 1, lagMs: 120 });
    assert.ok(Math.abs(c.shedShare - 0.5) < 1e-9, String(c.shedShare));
    c.update({ utilization: 0.3, lagMs: 10 });
    assert.equal(c.shedShare, 0);
  });

  test('utilization off (target 100 %): lag alone drives the share up and back down', () => {
    const c = new OverloadControl({ targetUtilization: 1, maxLagMs: 50, lagStep: 0.25, smoothing: 1, maxDecrease: 1 });
    c.update({ utilization: 1, lagMs: 10 });
    assert.equal(c.shedShare, 0);
    c.update({ utilization: 1, lagMs: 80 });
    c.update({ utilization: 1, lagMs: 80 });
    assert.equal(c.shedShare, 0.5);
    c.update({ utilization: 1, lagMs: 10 });
    assert.equal(c.shedShare, 0.25);
  });

  test('defaults: a one-sample spike moves little (smoothing), utilization alone never sheds everything, lag may', () => {
    const c = new OverloadControl();
    c.update(busy);
    assert.ok(c.shedShare < 0.05, `one busy sample: ${c.shedShare}`);
    c.update(idle);
    assert.equal(c.shedShare, 0);
    for (let i = 0; i < 100; i++) c.update(busy);
    assert.equal(c.shedShare, 0.95, 'a CPU-starved thread still lets 5 % in');
    for (let i = 0; i < 2; i++) c.update({ utilization: 1, lagMs: 500 });
    assert.equal(c.shedShare, 1, 'a lagging loop sheds everything');
    for (let i = 0; i < 40 && c.shedShare > 0; i++) c.update(idle);
    assert.equal(c.shedShare, 0, 'recovers');
  });

  test('clients retransmitting raise the share even on a starved thread (up to maxShare); it falls back at most 0.1 per sample', () => {
    const c = new OverloadControl({ smoothing: 1 });
    c.update({ utilization: 0.5, lagMs: 5, retransmitted: 0.05 });
    assert.equal(c.shedShare, 0, 'a few retransmissions are normal');
    for (let i = 0; i < 40; i++) c.update({ utilization: 0.5, lagMs: 5, retransmitted: 0.6 });
    assert.equal(c.shedShare, 0.95);
    c.update({ utilization: 0.5, lagMs: 5, retransmitted: 0 });
    assert.ok(Math.abs(c.shedShare - 0.85) < 1e-9, String(c.shedShare));
    for (let i = 0; i < 9; i++) c.update({ utilization: 0.5, lagMs: 5, retransmitted: 0 });
    assert.equal(c.shedShare, 0, 'nothing shed a second after the retransmissions stop');
    const off = new OverloadControl({ smoothing: 1, maxRetransmitted: 0 });
    off.update({ utilization: 0.5, lagMs: 5, retransmitted: 5 });
    assert.equal(off.shedShare, 0, 'signal off');
  });

  test('a queue delay above the target raises the share in proportion, on a starved thread too; a draining queue holds it; never to 1', () => {
    const c = new OverloadControl({ smoothing: 1, targetQueueDelayMs: 100 });
    c.update({ utilization: 0.6, lagMs: 5, queueDelayMs: 90 });
    assert.equal(c.shedShare, 0, 'under the target: a short queue is served');
    c.update({ utilization: 0.6, lagMs: 5, queueDelayMs: 300 });
    assert.ok(Math.abs(c.shedShare - 0.1) < 1e-9, `two targets of excess: 2 x lagStep, got ${c.shedShare}`);
    c.update({ utilization: 0.6, lagMs: 5, queueDelayMs: 200 });
    assert.ok(Math.abs(c.shedShare - 0.1) < 1e-9, `draining: held, got ${c.shedShare}`);
    c.update({ utilization: 0.6, lagMs: 5, queueDelayMs: 250 });
    assert.ok(Math.abs(c.shedShare - 0.175) < 1e-9, `growing again: ${c.shedShare}`);
    for (let i = 0; i < 40; i++) c.update({ utilization: 0.6, lagMs: 5, queueDelayMs: 400 + i });
    assert.equal(c.shedShare, 0.95, 'capped at maxShare: some new work still gets in');
    const answers = Array.from({ length: 20 }, () => c.admit(false, 0, false, true));
    assert.deepEqual(new Set(answers), new Set(['accept']), 'a REGISTER answering our challenge is spared below 1');
    assert.equal(Array.from({ length: 20 }, () => c.admit(true, 0, false, true)).filter((d) => d === 'reject').length, 19, 'an INVITE is not');
    assert.equal(decisions(c, 20, false).filter((d) => d === 'reject').length, 19, 'nor a new REGISTER');
    c.update({ utilization: 0.6, lagMs: 5, queueDelayMs: 1 });
    assert.ok(Math.abs(c.shedShare - 0.85) < 1e-9, String(c.shedShare));
    const off = new OverloadControl({ smoothing: 1, maxShare: 1 });
    off.update({ utilization: 0.6, lagMs: 5, queueDelayMs: 5000 });
    assert.equal(off.shedShare, 0, 'off unless configured (the class default)');
    for (let i = 0; i < 40; i++) off.update(busy);
    assert.equal(off.admit(false, 0, false, true), 'reject', 'with the signal off, answers to challenges are not spared');
  });

  test('lag above dropLagMs drops new requests unanswered until it falls', () => {
    const c = new OverloadControl({ dropLagMs: 500, smoothing: 1 });
    c.update({ utilization: 0.2, lagMs: 800 });
    assert.equal(c.active(0), false, 'not while the loop is idle');
    c.update({ utilization: 1, lagMs: 800 });
    assert.equal(c.active(0), true);
    assert.deepEqual(decisions(c, 3), ['drop', 'drop', 'drop']);
    assert.equal(c.admit(false, 0), 'drop', 'REGISTER too');
    assert.equal(c.counters.dropped, 4);
    c.update({ utilization: 0.1, lagMs: 10 });
    assert.notEqual(c.admit(true, 0), 'drop');
  });

  test('maxPendingInvites caps unanswered INVITEs (queue depth); REGISTER is not counted against it', () => {
    const c = new OverloadControl({ maxPendingInvites: 3 });
    assert.equal(c.active(2), false);
    assert.equal(c.active(3), true);
    assert.equal(c.admit(true, 3), 'reject');
    assert.equal(c.admit(false, 3), 'accept');
    assert.equal(c.admit(true, 2), 'accept');
    assert.equal(new OverloadControl().active(1_000_000), false, 'no cap by default');
  });

  test('targetWaitMs: the cap is the measured progress rate x the target wait, between minPendingInvites and maxPendingInvites', () => {
    const c = new OverloadControl({ maxPendingInvites: 1000, targetWaitMs: 200, minPendingInvites: 50, smoothing: 1, sampleMs: 100 });
    assert.equal(c.pendingCap, 50, 'no rate measured yet: the floor');
    assert.equal(c.active(49), false);
    assert.equal(c.admit(true, 50), 'reject');
    c.update({ utilization: 0.5, lagMs: 0, progressed: 100 }); // 1,000/s x 0.2 s
    assert.equal(c.pendingCap, 200);
    assert.equal(c.active(199), false);
    assert.equal(c.admit(true, 199), 'accept');
    assert.equal(c.admit(true, 200), 'reject');
    assert.equal(c.admit(false, 5000), 'accept', 'REGISTER is not counted against it');
    c.update({ utilization: 0.5, lagMs: 0, progressed: 1000 });
    assert.equal(c.pendingCap, 1000, 'at most maxPendingInvites');
    c.update({ utilization: 0.5, lagMs: 0, progressed: 100 });
    assert.equal(c.pendingCap, 1000, 'a sudden fall of the rate (a stall) lowers the cap by 5 % per sample at most');
    for (let i = 0; i < 20; i++) c.update({ utilization: 0.5, lagMs: 0, progressed: 0 });
    assert.equal(c.pendingCap, Math.round(10_000 * 0.95 ** 21 * 0.2), 'two seconds with nothing progressing: a third of it');
    for (let i = 0; i < 100; i++) c.update({ utilization: 0.5, lagMs: 0, progressed: 0 });
    assert.equal(c.pendingCap, 50, 'at least minPendingInvites');
    const smoothed = new OverloadControl({ targetWaitMs: 100, minPendingInvites: 1, smoothing: 0.5, sampleMs: 100 });
    smoothed.update({ utilization: 0, lagMs: 0, progressed: 100 });
    assert.equal(smoothed.pendingCap, 50, 'the rate is smoothed like utilization (500/s after one sample of 1,000/s)');
    assert.equal(new OverloadControl({ maxPendingInvites: 300 }).pendingCap, 300, 'targetWaitMs 0: the fixed cap');
  });

  test('standingMs: the adaptive cap sheds a standing queue only, until it drained to half the cap; the hard cap sheds at once', () => {
    const c = new OverloadControl({ maxPendingInvites: 1000, targetWaitMs: 200, minPendingInvites: 100, standingMs: 300, smoothing: 1, sampleMs: 100 });
    const sample = (standing: number) => c.update({ utilization: 0.5, lagMs: 0, progressed: 50, standing }); // 500/s: cap 100
    sample(0);
    assert.equal(c.pendingCap, 100);
    assert.equal(c.admit(true, 400), 'accept', 'a burst after a stall: above the cap, not standing yet');
    assert.equal(c.active(400), false);
    sample(150);
    sample(150);
    sample(20);
    assert.equal(c.admit(true, 400), 'accept', 'it drained within the sample: the count starts again');
    sample(100);
    sample(120);
    assert.equal(c.capShedding, false, 'two samples of standing queue');
    sample(130);
    assert.equal(c.capShedding, true, 'three (300 ms): sheds');
    assert.equal(c.admit(true, 100), 'reject');
    assert.equal(c.admit(true, 99), 'accept', 'below the cap the queue takes new INVITEs');
    sample(60);
    assert.equal(c.capShedding, true, 'hovering near the cap (low-water mark 60 >= half of 100) keeps shedding');
    sample(40);
    assert.equal(c.capShedding, false, 'drained under half the cap: stops');
    assert.equal(c.admit(true, 150), 'accept');
    assert.equal(c.admit(true, 1000), 'reject', 'maxPendingInvites sheds at once');
    assert.equal(c.counters.rejected, 2);
    const unsampled = new OverloadControl({ targetWaitMs: 200, minPendingInvites: 100, standingMs: 300 });
    unsampled.update({ utilization: 0.5, lagMs: 0, progressed: 0 });
    assert.equal(unsampled.admit(true, 100), 'reject', 'no standing figure in the sample: the cap applies at once');
  });

  test('standingProbe reports the lowest depth of the wait queue per sample', () => {
    const q = new InviteWaitQueue();
    const probe = standingProbe(q);
    for (let i = 0; i < 10; i++) q.enter();
    q.leave(); q.leave(); q.leave();
    q.enter(); q.enter();
    assert.equal(probe(), 0, 'the first sample started from an empty queue');
    q.leave(); q.leave();
    q.enter();
    assert.equal(probe(), 7, 'lowest since the last sample: 9 - 2');
    assert.equal(probe(), 8, 'nothing left: the depth itself');
  });
});

describe('retransmissionProbe', () => {
  test('retransmissions absorbed per new request: transactions created and stateless answers alike', () => {
    const tx = { absorbed: 0, serverCreated: 0 };
    const endpoint = { stateless: 0 };
    const probe = retransmissionProbe(tx, endpoint);
    tx.serverCreated += 100;
    tx.absorbed += 20;
    assert.equal(probe(), 0.2);
    // A REGISTER storm: half its requests are challenged with no transaction. They are new
    // requests all the same, so the share stays what it is.
    tx.serverCreated += 50;
    endpoint.stateless += 50;
    tx.absorbed += 20;
    assert.equal(probe(), 0.2);
    assert.equal(probe(), 0, 'nothing since');
  });
});

describe('eventLoopProbe', () => {
  const block = (ms: number) => { const until = performance.now() + ms; while (performance.now() < until) { /* block the loop */ } };

  test('measures a loop blocked on purpose: lag and utilization', async () => {
    const p = eventLoopProbe();
    try {
      await new Promise((r) => setTimeout(r, 50));
      block(40);
      p.probe(); // a busy sample: the ticker now runs every 10 ms; start a fresh window
      assert.equal(p.period(), 10);
      block(120);
      await new Promise((r) => setTimeout(r, 30));
      const s = p.probe();
      assert.ok(s.lagMs >= 80, `lag ${s.lagMs} ms`);
      assert.ok(s.utilization >= 0.6, `utilization ${s.utilization}`);
      await new Promise((r) => setTimeout(r, 100));
      const calm = p.probe();
      assert.ok(calm.lagMs < 80, `lag after ${calm.lagMs} ms`);
    } finally {
      p.close();
    }
  });

  test('a quiet loop is ticked every idleTickMs, a busy one every tickMs, and back', async () => {
    const p = eventLoopProbe(10, undefined, { idleTickMs: 100 });
    try {
      assert.equal(p.period(), 100, 'quiet at start');
      await new Promise((r) => setTimeout(r, 50));
      p.probe();
      assert.equal(p.period(), 100, 'a quiet sample keeps the slow ticker');
      block(60);
      p.probe();
      assert.equal(p.period(), 10, 'a busy sample starts the fine ticker');
      await new Promise((r) => setTimeout(r, 100));
      p.probe();
      assert.equal(p.period(), 100, 'quiet again');
    } finally {
      p.close();
    }
  });
});

/** A new request (no To tag) from 192.0.2.10 with its own branch, Call-ID and From tag. */
const newRequest = (method: 'INVITE' | 'REGISTER', id: string, transport = 'UDP') => Buffer.from([
  `${method} sip:bob@example.test SIP/2.0`,
  `Via: SIP/2.0/${transport} 192.0.2.10:5060;branch=z9hG4bK${id}`,
  'Max-Forwards: 70',
  `From: <sip:alice@example.test>;tag=${id}`,
  'To: <sip:bob@example.test>',
  `Call-ID: ${id}@192.0.2.10`,
  `CSeq: 1 ${method}`,
  'Contact: <sip:alice@192.0.2.10:5060>',
  'Content-Length: 0',
  '', '',
].join('\r\n'));

describe('SipEndpoint: the INVITE wait queue', () => {
  test('an INVITE waits until its first answer beyond 100 Trying (a ringing phone is no queue); any final answer ends the wait, once', () => {
    const transports = { onMessage: undefined, send: async () => {} } as unknown as TransportLayer;
    const endpoint = new SipEndpoint({ transports, advertise: () => ({ host: '192.0.2.1', port: 5060 }) });
    const held: IncomingRequest[] = [];
    endpoint.onRequest('INVITE', (r) => { held.push(r); });
    const source = { protocol: 'udp' as const, remoteAddress: '192.0.2.10', remotePort: 5060, localAddress: '192.0.2.1', localPort: 5060 };
    for (let i = 0; i < 3; i++) endpoint.receive(newRequest('INVITE', `w${i}`), source);
    assert.equal(endpoint.inviteWait.waiting, 3);
    held[0]!.reply(100, 'Trying');
    assert.equal(endpoint.inviteWait.waiting, 3, '100 Trying says nothing about progress');
    held[0]!.reply(180, 'Ringing');
    assert.equal(endpoint.inviteWait.waiting, 2);
    held[0]!.reply(200, 'OK', { body: 'v=0', contentType: 'application/sdp' });
    assert.equal(endpoint.inviteWait.waiting, 2, 'left once');
    held[1]!.reply(503, 'Service Unavailable');
    held[2]!.reply(486, 'Busy Here');
    assert.equal(endpoint.inviteWait.waiting, 0);
    assert.equal(endpoint.inviteWait.progressed, 3);
    endpoint.close();
  });
});

describe('SipEndpoint sheds by transport', () => {
  const register = (branch: string) => newRequest('REGISTER', branch, 'TCP');

  test('dropping (lag above dropLagMs): silent over UDP, 503 + Retry-After over TCP, where nothing would resend', () => {
    const sent: string[] = [];
    const transports = { onMessage: undefined, send: async (_t: unknown, data: Buffer) => { sent.push(data.toString()); } } as unknown as TransportLayer;
    const overload = new OverloadControl({ dropLagMs: 500, smoothing: 1, retryAfterSeconds: 9 });
    overload.update({ utilization: 1, lagMs: 2000 });
    const endpoint = new SipEndpoint({ transports, advertise: () => ({ host: '192.0.2.1', port: 5060 }), overload });
    const source = (protocol: 'udp' | 'tcp') => ({ protocol, remoteAddress: '192.0.2.10', remotePort: 5060, localAddress: '192.0.2.1', localPort: 5060 });
    endpoint.receive(register('udp1'), source('udp'));
    assert.deepEqual(sent, [], 'UDP: dropped unanswered');
    endpoint.receive(register('tcp1'), source('tcp'));
    assert.equal(sent.length, 1);
    assert.match(sent[0]!, /^SIP\/2\.0 503 Service Unavailable\r\n/);
    assert.match(sent[0]!, /\r\nRetry-After: 9\r\n/);
    // Counted as what happened: one dropped unanswered, one answered 503.
    assert.deepEqual(overload.counters, { dropped: 1, rejected: 1 });
    endpoint.close();
  });
});
