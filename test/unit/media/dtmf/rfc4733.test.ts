import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TelephoneEvent,
  TelephoneEventReceiver,
  TelephoneEventSender,
  dtmfDigitOf,
  dtmfEventCode,
  readTelephoneEvent,
  writeTelephoneEvent,
  type TelephoneEventReport,
} from '../../../../src/media/dtmf/rfc4733.ts';
import { DTMF_DIGITS } from '../../../../src/media/tone.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('telephone-event payload (RFC 4733 §2.3)', () => {
  test('event codes of §3.2 table 1', () => {
    assert.deepEqual(DTMF_DIGITS.map(dtmfEventCode), [...Array(16).keys()]);
    assert.equal(dtmfEventCode('*'), 10);
    assert.equal(dtmfEventCode('#'), 11);
    assert.equal(dtmfEventCode('D'), 15);
    assert.equal(dtmfDigitOf(11), '#');
    assert.equal(dtmfDigitOf(16), null);
  });

  test('reads event, E, volume, duration; R ignored', () => {
    const e = new TelephoneEvent();
    // event 5, E=1 R=1 volume 10, duration 1280
    assert.equal(readTelephoneEvent(hex('05 ca 0500'), e), true);
    assert.deepEqual({ ...e }, { event: 5, end: true, volume: 10, duration: 1280 });
    assert.equal(readTelephoneEvent(hex('0b 3f ffff'), e), true);
    assert.deepEqual({ ...e }, { event: 11, end: false, volume: 63, duration: 65535 });
    assert.equal(readTelephoneEvent(hex('0b3fff'), e), false, 'short payload');
  });

  test('writes the same octets back, R = 0', () => {
    const b = Buffer.alloc(6);
    assert.equal(writeTelephoneEvent(b, 5, true, 10, 1280, 2), 6);
    assert.deepEqual(b, hex('0000 058a 0500'));
    assert.throws(() => writeTelephoneEvent(Buffer.alloc(3), 1, false, 10, 0), RangeError);
  });
});

/** A receiver with a fake clock and the reports it produced. */
function rx(clockRate = 8000, timeoutMs = 300) {
  let t = 0;
  const reports: TelephoneEventReport[] = [];
  const starts: string[] = [];
  const r = new TelephoneEventReceiver({
    clockRate,
    timeoutMs,
    now: () => t,
    onEvent: (e) => reports.push(e),
    onStart: (_e, d) => starts.push(d ?? '?'),
  });
  const pkt = (ts: number, m: boolean, ev: number, end: boolean, dur: number, advanceMs = 20): void => {
    t += advanceMs;
    const p = Buffer.alloc(4);
    writeTelephoneEvent(p, ev, end, 10, dur);
    r.receive(ts, m, p);
  };
  return { r, reports, starts, pkt, advance: (ms: number) => { t += ms; r.tick(); } };
}

describe('TelephoneEventReceiver (RFC 4733 §2.5.2)', () => {
  test('one digit: updates, three end packets -> one report with the final duration', () => {
    const { reports, starts, pkt, r } = rx();
    pkt(1000, true, 5, false, 160);
    pkt(1000, false, 5, false, 320);
    pkt(1000, false, 5, false, 480);
    pkt(1000, false, 5, true, 640);
    pkt(1000, false, 5, true, 640);
    pkt(1000, false, 5, true, 640);
    assert.equal(reports.length, 1);
    assert.deepEqual(starts, ['5']);
    assert.equal(reports[0].digit, '5');
    assert.equal(reports[0].duration, 640);
    assert.equal(reports[0].durationMs, 80);
    assert.equal(reports[0].timestamp, 1000);
    assert.equal(reports[0].endedBy, 'end');
    assert.equal(r.duplicates, 2);
  });

  test('same digit twice = two events (new timestamp), even with the marker lost', () => {
    const { reports, pkt } = rx();
    for (const ts of [8000, 9600]) {
      pkt(ts, false, 1, false, 160);
      pkt(ts, false, 1, true, 320);
      pkt(ts, false, 1, true, 320);
      pkt(ts, false, 1, true, 320);
    }
    assert.deepEqual(reports.map((e) => [e.digit, e.timestamp, e.duration]), [['1', 8000, 320], ['1', 9600, 320]]);
  });

  test('late update and late end retransmission after the report are dropped', () => {
    const { reports, pkt, r } = rx();
    pkt(500, true, 9, false, 160);
    pkt(500, false, 9, true, 480);
    pkt(500, false, 9, false, 320); // reordered update
    pkt(500, false, 9, true, 480);
    assert.equal(reports.length, 1);
    assert.equal(reports[0].duration, 480);
    assert.equal(r.duplicates, 2);
  });

  test('only end packets received (start lost): reported at the first', () => {
    const { reports, starts, pkt } = rx();
    pkt(700, false, 11, true, 800);
    pkt(700, false, 11, true, 800);
    pkt(700, false, 11, true, 800);
    assert.deepEqual(reports.map((e) => [e.digit, e.duration, e.endedBy]), [['#', 800, 'end']]);
    assert.deepEqual(starts, ['#']);
  });

  test('end never arrives: reported on timeout with the last duration, late end ignored', () => {
    const { reports, pkt, advance } = rx(8000, 300);
    pkt(100, true, 3, false, 160);
    pkt(100, false, 3, false, 320);
    advance(280);
    assert.equal(reports.length, 0);
    advance(40);
    assert.deepEqual(reports.map((e) => [e.digit, e.duration, e.endedBy]), [['3', 320, 'timeout']]);
    pkt(100, false, 3, true, 400);
    assert.equal(reports.length, 1);
  });

  test('end never arrives: reported when the next event starts', () => {
    const { reports, pkt } = rx();
    pkt(100, true, 3, false, 160);
    pkt(100, false, 3, false, 320);
    pkt(2000, true, 4, false, 160);
    pkt(2000, false, 4, true, 320);
    assert.deepEqual(reports.map((e) => [e.digit, e.duration, e.endedBy]), [['3', 320, 'superseded'], ['4', 320, 'end']]);
  });

  test('packets of an older event (reordered) are stale', () => {
    const { reports, pkt, r } = rx();
    pkt(2000, true, 4, false, 160);
    pkt(1000, false, 3, true, 320);
    pkt(2000, false, 4, true, 320);
    assert.deepEqual(reports.map((e) => e.digit), ['4']);
    assert.equal(r.stale, 1);
  });

  test('timestamp wrap-around: 0xFFFFFF00 then 0x100 is a newer event', () => {
    const { reports, pkt } = rx();
    pkt(0xffffff00, true, 1, true, 320);
    pkt(0x100, true, 2, true, 320);
    assert.deepEqual(reports.map((e) => e.digit), ['1', '2']);
  });

  test('short payloads are counted and ignored; flush reports the open event', () => {
    const { reports, pkt, r } = rx();
    r.receive(1, true, Buffer.alloc(3));
    assert.equal(r.invalid, 1);
    pkt(10, true, 0, false, 160);
    r.flush();
    assert.deepEqual(reports.map((e) => [e.digit, e.endedBy]), [['0', 'flushed']]);
  });
});

/** Drives a sender like the worker does: one `next` per 20 ms tick until idle. */
function drain(tx: TelephoneEventSender, maxTicks = 1000) {
  const out: { marker: boolean; ts: number; ev: TelephoneEvent }[] = [];
  const buf = Buffer.alloc(16);
  for (let i = 0; i < maxTicks; i++) {
    const n = tx.next(buf, 12);
    if (n === 0) break;
    assert.equal(n, 4);
    const ev = new TelephoneEvent();
    readTelephoneEvent(buf, ev, 12);
    out.push({ marker: tx.marker, ts: tx.timestamp, ev });
  }
  return out;
}

describe('TelephoneEventSender (RFC 4733 §2.5.1)', () => {
  test('100 ms digit at 8000 Hz: 5 updates (last with E) + 2 more end packets', () => {
    const tx = new TelephoneEventSender({ clockRate: 8000 });
    tx.start('7', 12345, 100);
    const p = drain(tx);
    assert.deepEqual(p.map((x) => x.ev.duration), [160, 320, 480, 640, 800, 800, 800]);
    assert.deepEqual(p.map((x) => x.ev.end), [false, false, false, false, true, true, true]);
    assert.deepEqual(p.map((x) => x.marker), [true, false, false, false, false, false, false]);
    assert.ok(p.every((x) => x.ts === 12345 && x.ev.event === 7 && x.ev.volume === 10));
    assert.equal(tx.active, false);
    assert.equal(tx.next(Buffer.alloc(4)), 0);
  });

  test('48000 Hz clock: duration grows by 960 per 20 ms packet', () => {
    const tx = new TelephoneEventSender({ clockRate: 48000, volume: 7 });
    tx.start('#', 0, 90);
    const p = drain(tx);
    assert.deepEqual(p.map((x) => x.ev.duration), [960, 1920, 2880, 3840, 4320, 4320, 4320]);
    assert.ok(p.every((x) => x.ev.event === 11 && x.ev.volume === 7));
  });

  test('held key: open event, stop() ends it at the next packet', () => {
    const tx = new TelephoneEventSender({ clockRate: 8000 });
    tx.start('A', 1, undefined);
    const buf = Buffer.alloc(4);
    for (let i = 0; i < 10; i++) tx.next(buf);
    tx.stop();
    const p = drain(tx);
    assert.deepEqual(p.map((x) => [x.ev.duration, x.ev.end]), [[1760, true], [1760, true], [1760, true]]);
  });

  test('long event at 48 kHz splits into segments at 0xFFFF (§2.5.1.3) and the receiver sums them', () => {
    const tx = new TelephoneEventSender({ clockRate: 48000 });
    tx.start('0', 1000, 2000); // 96,000 clock units
    const p = drain(tx);
    const seg2 = p.findIndex((x) => x.ts !== 1000);
    assert.ok(seg2 > 0);
    assert.equal(p[seg2 - 1].ev.duration, 0xffff);
    assert.equal(p[seg2 - 1].ev.end, false);
    assert.equal(p[seg2].ts, 1000 + 0xffff);
    assert.equal(p[seg2].marker, false);
    assert.deepEqual(p.slice(-3).map((x) => [x.ev.duration, x.ev.end]), Array(3).fill([96000 - 0xffff, true]));

    const reports: TelephoneEventReport[] = [];
    const r = new TelephoneEventReceiver({ clockRate: 48000, now: () => 0, onEvent: (e) => reports.push(e) });
    const buf = Buffer.alloc(4);
    for (const x of p) {
      writeTelephoneEvent(buf, x.ev.event, x.ev.end, x.ev.volume, x.ev.duration);
      r.receive(x.ts, x.marker, buf);
    }
    assert.equal(reports.length, 1);
    assert.equal(reports[0].duration, 96000);
    assert.equal(reports[0].durationMs, 2000);
    assert.equal(reports[0].timestamp, 1000);
  });

  test('sender -> receiver for every digit, with each end packet repeated', () => {
    const reports: TelephoneEventReport[] = [];
    const r = new TelephoneEventReceiver({ clockRate: 8000, now: () => 0, onEvent: (e) => reports.push(e) });
    const tx = new TelephoneEventSender({ clockRate: 8000 });
    const buf = Buffer.alloc(4);
    let ts = 0;
    for (const d of DTMF_DIGITS) {
      tx.start(d, ts, 60);
      while (tx.next(buf) > 0) r.receive(tx.timestamp, tx.marker, buf);
      ts += 800;
    }
    assert.deepEqual(reports.map((e) => e.digit).join(''), DTMF_DIGITS.join(''));
    assert.ok(reports.every((e) => e.duration === 480 && e.endedBy === 'end'));
  });

  test('bad arguments throw at the API edge', () => {
    assert.throws(() => new TelephoneEventSender({ clockRate: 44100 }), RangeError);
    assert.throws(() => new TelephoneEventSender({ clockRate: 8000, volume: 64 }), RangeError);
    const tx = new TelephoneEventSender({ clockRate: 8000 });
    assert.throws(() => tx.start(256, 0), RangeError);
    assert.throws(() => tx.start('X' as never, 0), RangeError);
  });
});
