import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readContentLength, StreamFramer } from '../../../src/sip/stream-framer.ts';
import type { FramerError, StreamFramerOptions } from '../../../src/sip/stream-framer.ts';

const INVITE =
  'INVITE sip:bob@example.com SIP/2.0\r\n' +
  'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n' +
  'Call-ID: a84b4c76e66710\r\n' +
  'CSeq: 314159 INVITE\r\n' +
  'Content-Type: application/sdp\r\n' +
  'Content-Length: 14\r\n' +
  '\r\n' +
  'v=0\r\no=- 1 1\r\n';
const COMPACT = 'SIP/2.0 200 OK\r\nv: SIP/2.0/TCP 192.0.2.1\r\ni: x\r\nL : 4\r\n\r\nabcd';
const NO_BODY = 'OPTIONS sip:a@b SIP/2.0\r\ncontent-length:0\r\n\r\n';

interface Recorded {
  messages: string[];
  pings: number;
  errors: FramerError[];
  framer: StreamFramer;
}

function recorder(options?: StreamFramerOptions): Recorded {
  const rec: Recorded = { messages: [], pings: 0, errors: [], framer: undefined as unknown as StreamFramer };
  rec.framer = new StreamFramer(
    { onMessage: (m) => rec.messages.push(m.toString('latin1')), onPing: () => rec.pings++ },
    options,
  );
  return rec;
}

function feed(rec: Recorded, chunks: Buffer[]): void {
  for (const chunk of chunks) {
    const err = rec.framer.push(chunk);
    if (err !== null) rec.errors.push(err);
  }
}

function splitAt(data: Buffer, ...points: number[]): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    out.push(Buffer.from(data.subarray(from, p)));
    from = p;
  }
  out.push(Buffer.from(data.subarray(from)));
  return out;
}

describe('StreamFramer (RFC 3261 §18.3)', () => {
  test('one message in one chunk is emitted as a zero-copy view of the chunk', () => {
    const chunk = Buffer.from(INVITE, 'latin1');
    let got: Buffer | null = null;
    const framer = new StreamFramer({ onMessage: (m) => (got = m), onPing: () => undefined });
    assert.equal(framer.push(chunk), null);
    assert.ok(got !== null);
    const message = got as Buffer;
    assert.equal(message.toString('latin1'), INVITE);
    assert.equal(message.buffer, chunk.buffer);
    assert.equal(framer.bufferedBytes, 0);
  });

  test('three messages split at every pair of byte boundaries', () => {
    const stream = Buffer.from('\r\n' + INVITE + COMPACT + NO_BODY, 'latin1');
    const expected = [INVITE, COMPACT, NO_BODY];
    // Every single split point, and a second split point in a stride, covers all boundaries.
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 7) {
        const rec = recorder();
        feed(rec, splitAt(stream, i, j));
        assert.deepEqual(rec.errors, [], `split ${i}/${j}`);
        assert.deepEqual(rec.messages, expected, `split ${i}/${j}`);
        assert.equal(rec.framer.bufferedBytes, 0);
      }
    }
  });

  test('one byte per chunk', () => {
    const stream = Buffer.from(INVITE + NO_BODY + COMPACT, 'latin1');
    const rec = recorder();
    feed(rec, [...stream].map((b) => Buffer.from([b])));
    assert.deepEqual(rec.messages, [INVITE, NO_BODY, COMPACT]);
    assert.deepEqual(rec.errors, []);
  });

  test('several messages in one chunk, then a partial one completed later', () => {
    const rec = recorder();
    const tail = Buffer.from(INVITE, 'latin1');
    feed(rec, [Buffer.concat([Buffer.from(NO_BODY + COMPACT + NO_BODY), tail.subarray(0, 40)]), tail.subarray(40)]);
    assert.deepEqual(rec.messages, [NO_BODY, COMPACT, NO_BODY, INVITE]);
  });

  describe('CRLF keep-alive (RFC 5626 §3.5.1)', () => {
    const cases: Array<[string, string, number, string[]]> = [
      ['double CRLF is one ping', '\r\n\r\n', 1, []],
      ['single CRLF (a pong) is ignored', '\r\n', 0, []],
      ['two pings', '\r\n\r\n\r\n\r\n', 2, []],
      ['ping between messages', NO_BODY + '\r\n\r\n' + NO_BODY, 1, [NO_BODY, NO_BODY]],
      ['CRLF before a message is skipped (§7.5)', '\r\n' + NO_BODY, 0, [NO_BODY]],
    ];
    for (const [name, input, pings, messages] of cases) {
      test(name, () => {
        const whole = recorder();
        feed(whole, [Buffer.from(input, 'latin1')]);
        assert.equal(whole.pings, pings);
        assert.deepEqual(whole.messages, messages);
        const bytewise = recorder();
        feed(bytewise, [...Buffer.from(input, 'latin1')].map((b) => Buffer.from([b])));
        assert.equal(bytewise.pings, pings);
        assert.deepEqual(bytewise.messages, messages);
      });
    }
  });

  describe('limits', () => {
    test('10 MB without a blank line is cut off at the header cap, never buffered', () => {
      const rec = recorder({ maxHeaderBytes: 65_536 });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let pushed = 0;
      let error: FramerError | null = null;
      while (pushed < 10 * 1024 * 1024 && error === null) {
        error = rec.framer.push(chunk);
        pushed += chunk.length;
        assert.ok(rec.framer.bufferedBytes <= 65_536);
      }
      assert.equal(error, 'header-too-large');
      assert.equal(pushed, 2 * 64 * 1024, 'rejected on the chunk that crosses the cap');
      assert.ok(rec.framer.highWaterBytes <= 65_536, `high water ${rec.framer.highWaterBytes}`);
      assert.equal(rec.framer.bufferedBytes, 0);
      assert.equal(rec.framer.push(Buffer.from(NO_BODY)), 'header-too-large', 'stays failed');
      assert.deepEqual(rec.messages, []);
    });

    test('header section of exactly maxHeaderBytes passes, one byte more fails', () => {
      const pad = (size: number) => {
        const head = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\nX: ';
        return head + 'x'.repeat(size - head.length - 4) + '\r\n\r\n';
      };
      const ok = recorder({ maxHeaderBytes: 200 });
      feed(ok, splitAt(Buffer.from(pad(200)), 100));
      assert.deepEqual(ok.errors, []);
      assert.equal(ok.messages.length, 1);
      const tooBig = recorder({ maxHeaderBytes: 200 });
      feed(tooBig, [Buffer.from(pad(201))]);
      assert.deepEqual(tooBig.errors, ['header-too-large']);
      const tooBigSplit = recorder({ maxHeaderBytes: 200 });
      feed(tooBigSplit, splitAt(Buffer.from(pad(201)), 199));
      assert.deepEqual(tooBigSplit.errors, ['header-too-large']);
    });

    test('Content-Length above maxBodyBytes is rejected before the body arrives', () => {
      const rec = recorder({ maxBodyBytes: 100 });
      feed(rec, [Buffer.from('MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 101\r\n\r\n')]);
      assert.deepEqual(rec.errors, ['body-too-large']);
    });

    test('missing Content-Length on a stream is an error (§18.3)', () => {
      const rec = recorder();
      feed(rec, [Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n')]);
      assert.deepEqual(rec.errors, ['missing-content-length']);
    });

    test('garbage or conflicting Content-Length is an error', () => {
      for (const header of ['Content-Length: abc', 'Content-Length: 1\r\nl: 2', 'Content-Length: -1', 'Content-Length:']) {
        const rec = recorder();
        feed(rec, [Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${header}\r\n\r\n`)]);
        assert.deepEqual(rec.errors, ['bad-content-length'], header);
      }
    });
  });

  test('a sink that stops the framer halts parsing of the rest of the chunk', () => {
    const seen: string[] = [];
    const framer: StreamFramer = new StreamFramer({
      onMessage: (m) => {
        seen.push(m.toString());
        framer.stop();
      },
      onPing: () => undefined,
    });
    assert.equal(framer.push(Buffer.from(NO_BODY + NO_BODY)), null);
    assert.deepEqual(seen, [NO_BODY]);
  });

  test('work is linear: a 60 KB header pushed one byte at a time', () => {
    const head = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n' + 'X-Pad: 0123456789\r\n'.repeat(3_150) + '\r\n';
    const rec = recorder();
    const bytes = Buffer.from(head);
    const started = performance.now();
    for (let i = 0; i < bytes.length; i++) rec.framer.push(bytes.subarray(i, i + 1));
    const ms = performance.now() - started;
    assert.equal(rec.messages.length, 1);
    assert.equal(rec.messages[0].length, bytes.length);
    // Quadratic rescanning would take seconds here (60k × 60k / 2 byte compares).
    assert.ok(ms < 1_000, `${bytes.length} one-byte pushes took ${ms.toFixed(0)} ms`);
  });
});

describe('readContentLength', () => {
  const cases: Array<[string, string, number]> = [
    ['long form', 'Content-Length: 42', 42],
    ['compact form (§7.3.3)', 'l: 7', 7],
    ['case-insensitive name', 'CONTENT-length: 3', 3],
    ['space before colon', 'Content-Length   :   5  ', 5],
    ['folded value (§7.3.1)', 'Content-Length:\r\n 9', 9],
    ['same value twice', 'l: 2\r\nContent-Length: 2', 2],
    ['other headers starting with l/c are ignored', 'Contact: <sip:a@b>\r\nLocation: x\r\nContent-Type: a/b', -1],
    ['missing', 'Via: x', -1],
    ['not digits', 'Content-Length: 1x', -2],
  ];
  for (const [name, header, expected] of cases) {
    test(name, () => {
      const buf = Buffer.from(`SIP/2.0 200 OK\r\n${header}\r\n\r\n`);
      assert.equal(readContentLength(buf, 0, buf.length), expected);
    });
  }

  test('the start line is never read as a header', () => {
    const buf = Buffer.from('l: 5 SIP/2.0\r\nl: 1\r\n\r\n');
    assert.equal(readContentLength(buf, 0, buf.length), 1);
  });
});
