/**
 * RFC 4475 "SIP Torture Test Messages": every message of test/fixtures/rfc4475 against
 * MANIFEST.tsv.
 *
 * Outcomes:
 * - `ok`: parseMessage succeeds; requests pass validateRequest, responses validateResponse.
 *   Codes such as 416 (unkscm, novelsc), 420 (bext01), 415 (invut) or 401 are the core's
 *   decision (it knows what it supports), not the parser's: validateRequest returns null.
 * - `error`: parseMessage throws SipParseError (isRequest set for requests so the server can
 *   answer 400), or validateRequest answers 400, or validateResponse flags the response.
 * - `either`: no crash, and any answer given is one of the manifest's server_reply codes.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SipParseError } from '../../../src/sip/errors.ts';
import { parseMessage } from '../../../src/sip/parse-message.ts';
import type { SipMessage } from '../../../src/sip/message.ts';
import { validateRequest, validateResponse } from '../../../src/sip/validate-request.ts';

const dir = fileURLToPath(new URL('../../fixtures/rfc4475/', import.meta.url));

interface Row {
  file: string;
  section: string;
  title: string;
  parser: 'ok' | 'error' | 'either';
  replies: string[];
}

const rows: Row[] = readFileSync(`${dir}MANIFEST.tsv`, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0 && !l.startsWith('#'))
  .map((l) => {
    const [file, section, title, parser, reply] = l.split('\t');
    return { file, section, title, parser: parser as Row['parser'], replies: reply.split('|') };
  });

type Outcome =
  | { kind: 'accepted'; msg: SipMessage }
  | { kind: 'parse-error'; err: SipParseError }
  | { kind: 'rejected'; msg: SipMessage; status: number; code: string };

function run(file: string): Outcome {
  let msg: SipMessage;
  try {
    msg = parseMessage(readFileSync(dir + file));
  } catch (err) {
    if (err instanceof SipParseError) return { kind: 'parse-error', err };
    throw err; // anything else is a crash
  }
  const v = msg.isRequest ? validateRequest(msg) : validateResponse(msg);
  return v === null ? { kind: 'accepted', msg } : { kind: 'rejected', msg, status: v.status, code: v.code };
}

function load(file: string): SipMessage {
  return parseMessage(readFileSync(dir + file));
}

describe('RFC 4475 torture corpus', () => {
  test('manifest lists the 49 messages', () => {
    assert.equal(rows.length, 49);
  });

  for (const row of rows) {
    test(`${row.file} §${row.section} ${row.title} -> ${row.parser}`, () => {
      const out = run(row.file);
      const isResponse = row.replies.includes('none') && row.title.includes('(response)');
      if (row.parser === 'ok') {
        assert.equal(out.kind, 'accepted', out.kind === 'rejected' ? `rejected ${out.status} ${out.code}` : out.kind === 'parse-error' ? out.err.message : '');
        return;
      }
      if (out.kind === 'parse-error') {
        if (isResponse) assert.equal(out.err.isRequest, false);
        else if (out.err.isRequest) {
          assert.ok(row.replies.includes('400'), `parser error but 400 not allowed: ${row.replies.join('|')}`);
          assert.ok(out.err.replyHeaders !== null && out.err.replyHeaders.via.length > 0, 'a 400 needs the Via');
        } else assert.ok(row.replies.includes('none'));
        return;
      }
      if (out.kind === 'rejected') {
        if (out.msg.isRequest) assert.ok(row.replies.includes(String(out.status)), `answered ${out.status} (${out.code})`);
        else assert.equal(out.status, 0);
        return;
      }
      assert.equal(row.parser, 'either', `${row.file} must be rejected`);
    });
  }
});

describe('RFC 4475 parsed values', () => {
  test('wsinv.dat §3.1.1.1: folding, LWS, compact forms, quoted escapes', () => {
    const m = load('wsinv.dat');
    assert.equal(m.method, 'INVITE');
    assert.deepEqual(
      m.via.map((v) => [v.transport, v.host, v.branch]),
      [
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ],
    );
    assert.equal(m.to.uri.user, 'vivekg');
    assert.equal(m.toTag, '1918181833n');
    assert.equal(m.from.displayName, 'J Rosenberg \\"');
    assert.equal(m.fromTag, '98asjd8');
    assert.equal(m.maxForwards, 68);
    assert.deepEqual(m.cseq, { seq: 9, method: 'INVITE' });
    assert.equal(m.callId, 'wsinv.ndaksdj@192.0.2.1');
    assert.equal(m.getHeader('NewFangledHeader'), 'newfangled value continued newfangled value');
    assert.equal(m.getHeader('UnknownHeaderWithUnusualValue'), ';;,,;;,;');
    assert.equal(m.getHeader('subject'), '');
    const contacts = m.contacts;
    assert.ok(contacts !== '*');
    assert.equal(contacts[0].displayName, 'Quoted string ""');
    assert.deepEqual([...contacts[0].params], [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
    assert.deepEqual([...m.route[0].uri.params], [['lr', null], ['unknownwith', 'value'], ['unknown-no-value', null]]);
    assert.equal(m.body.length, 150);
  });

  test('escnull.dat §3.1.1.4: %00 in users', () => {
    const m = load('escnull.dat');
    assert.equal(m.to.uri.user, 'null-\u0000-null');
    const c = m.contacts;
    assert.ok(c !== '*');
    assert.deepEqual(c.map((x) => x.uri.user), ['\u0000', '\u0000\u0000']);
  });

  test('esc01.dat §3.1.1.3: escapes in Request-URI, To, From and Contact params', () => {
    const m = load('esc01.dat');
    assert.equal(m.requestUri.user, 'sips:user@example.com');
    assert.equal(m.requestUri.host, 'example.net');
    assert.equal(m.to.uri.user, 'user');
    assert.equal(m.from.uri.user, 'I have spaces');
    const c = m.contacts;
    assert.ok(c !== '*');
    assert.equal(c[0].uri.user, 'caller');
    assert.deepEqual([...c[0].uri.params], [['%6c%72', null], ['n%61me', 'v%61lue%25%34%31']]);
    assert.equal(m.contentType, 'application/sdp');
  });

  test('intmeth.dat §3.1.1.2: unusual method, URI user/password, NUL in quoted display name', () => {
    const m = load('intmeth.dat');
    assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
    assert.equal(m.requestUri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    assert.equal(m.requestUri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    assert.equal(m.to.displayName, 'BEL:\u0007 NUL:\u0000 DEL:\u007f');
    assert.equal(m.from.displayName, "token1~` token2'+_ token3*%!.-");
    assert.equal(m.fromTag, "_token~1'+`*%!-.");
    assert.equal(m.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
  });

  test('novelsc.dat §3.3.3 and unkscm.dat §3.3.2: other schemes kept opaque', () => {
    const a = load('novelsc.dat').requestUri;
    assert.deepEqual([a.scheme, a.opaque], ['soap.beep', '//192.0.2.103:3002']);
    const b = load('unkscm.dat').requestUri;
    assert.deepEqual([b.scheme, b.opaque], ['nobodyknowsthisscheme', 'totallyopaquecontent']);
    const c = load('unksm2.dat');
    assert.deepEqual([c.to.uri.scheme, c.to.uri.opaque], ['isbn', '2983792873']);
  });

  test('dblreq.dat §3.1.1.8: only the first message of the datagram', () => {
    const m = load('dblreq.dat');
    assert.equal(m.method, 'REGISTER');
    assert.equal(m.body.length, 0);
    assert.equal(m.raw?.toString('latin1').endsWith('Content-Length: 0\r\n\r\n'), true);
  });

  test('mpart01.dat §3.1.1.11: binary multipart body kept byte for byte', () => {
    const buf = readFileSync(`${dir}mpart01.dat`);
    const m = parseMessage(buf);
    assert.equal(m.body.length, 553);
    assert.ok(m.body.equals(buf.subarray(buf.length - 553)));
  });

  test('semiuri.dat §3.1.1.9: ";" inside the user part', () => {
    const u = load('semiuri.dat').requestUri;
    assert.equal(u.user, 'user;par=u@example.net');
    assert.equal(u.host, 'example.com');
    assert.equal(load('semiuri.dat').getHeaders('accept').length, 6);
  });

  test('unreason.dat / noreason.dat §3.1.1.12-13: reason phrases', () => {
    assert.equal(load('noreason.dat').reason, '');
    assert.equal(load('noreason.dat').status, 100);
    assert.equal(load('unreason.dat').reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
  });

  test('rejections carry stable codes', () => {
    const codes: Record<string, string> = {};
    for (const f of ['clerr.dat', 'ncl.dat', 'mcl01.dat', 'ltgtruri.dat', 'lwsruri.dat', 'lwsstart.dat', 'bigcode.dat']) {
      const out = run(f);
      assert.equal(out.kind, 'parse-error');
      if (out.kind === 'parse-error') codes[f] = out.err.code;
    }
    for (const f of ['scalar02.dat', 'quotbal.dat', 'badaspec.dat', 'baddn.dat', 'insuf.dat', 'multi01.dat', 'badinv01.dat', 'badvers.dat', 'mismatch01.dat', 'escruri.dat']) {
      const out = run(f);
      assert.equal(out.kind, 'rejected', f);
      if (out.kind === 'rejected') codes[f] = `${out.status} ${out.code}`;
    }
    assert.deepEqual(codes, {
      'clerr.dat': 'SIP_ERR_PARSE_CONTENT_LENGTH_EXCEEDS',
      'ncl.dat': 'SIP_ERR_PARSE_CONTENT_LENGTH',
      'mcl01.dat': 'SIP_ERR_PARSE_CONTENT_LENGTH_MULTIPLE',
      'ltgtruri.dat': 'SIP_ERR_PARSE_START_LINE',
      'lwsruri.dat': 'SIP_ERR_PARSE_START_LINE',
      'lwsstart.dat': 'SIP_ERR_PARSE_START_LINE',
      'bigcode.dat': 'SIP_ERR_PARSE_STATUS_CODE',
      'scalar02.dat': '400 SIP_ERR_PARSE_CSEQ',
      'quotbal.dat': '400 SIP_ERR_PARSE_NAME_ADDR',
      'badaspec.dat': '400 SIP_ERR_PARSE_URI',
      'baddn.dat': '400 SIP_ERR_VALIDATE_MULTIPLE_VALUES',
      'insuf.dat': '400 SIP_ERR_VALIDATE_MISSING_HEADER',
      'multi01.dat': '400 SIP_ERR_VALIDATE_MULTIPLE_VALUES',
      'badinv01.dat': '400 SIP_ERR_PARSE_VIA',
      'badvers.dat': '505 SIP_ERR_VALIDATE_VERSION',
      'mismatch01.dat': '400 SIP_ERR_VALIDATE_CSEQ_METHOD',
      'escruri.dat': '400 SIP_ERR_VALIDATE_RURI_HEADERS',
    });
  });

  test('a 400 can be built from the salvaged headers of clerr.dat', () => {
    const out = run('clerr.dat');
    assert.equal(out.kind, 'parse-error');
    if (out.kind !== 'parse-error') return;
    assert.deepEqual(out.err.replyHeaders, {
      via: ['SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523'],
      from: 'sip:caller@example.net;tag=93942939o2',
      to: 'sip:j.user@example.com',
      callId: 'clerr.0ha0isndaksdjweiafasdk3',
      cseq: '8 INVITE',
    });
  });
});
