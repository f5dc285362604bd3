/**
 * Issue 4, point 4: every RFC 4475 torture message sent over UDP to a running server; the
 * answer (or silence) must be one MANIFEST.tsv allows for that file, and the server must
 * still answer OPTIONS afterwards with no handler error.
 *
 * Each message goes out from its own socket (so replies cannot be confused), one after the
 * other with a small gap, and every socket collects for a while before the checks.
 *
 * Several messages share a top Via sent-by and branch (escnull/regescrt, cparam01/cparam02,
 * unkscm/novelsc): by RFC 3261 §17.2.3 the later one is a retransmission of the earlier one's
 * transaction, answered to the earlier socket. They are separate tests, so each message gets
 * its file name spliced into its first RFC 3261 branch (badbranch.dat has none: RFC 2543
 * matching). Byte-identical datagrams count once: they are retransmissions (Timer G for
 * the final answer to an INVITE, §17.2.1).
 *
 * While a method has no handler yet (e.g. INVITE before the call router is wired in), 405
 * with Allow is the right answer for it (§8.2.1), so it is accepted for such methods only.
 * A request with a To tag (wsinv.dat) is mid-dialog; for a dialog we do not know, 481 is the
 * answer §12.2.2 prescribes, so it is accepted for those too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { SipTestClient } from './sip-client.ts';

const dir = fileURLToPath(new URL('../fixtures/rfc4475/', import.meta.url));

interface Row {
  file: string;
  section: string;
  title: string;
  replies: string[];
}

const rows: Row[] = readFileSync(`${dir}MANIFEST.tsv`, 'utf8')
  .split('\n')
  .filter((l) => l.length > 0 && !l.startsWith('#'))
  .map((l) => {
    const [file, section, title, , reply] = l.split('\t') as [string, string, string, string, string];
    return { file, section, title, replies: reply.split('|') };
  });

/** How long a socket listens after its message went out ("none" = nothing in this time). */
const LISTEN_MS = 400;

/** The message with `<file>.` spliced in after the magic cookie of its first branch. */
function uniqueBranch(data: Buffer, file: string): Buffer {
  const text = data.toString('latin1');
  return Buffer.from(text.replace(/(branch\s*=\s*z9hG4bK)/i, `$1${file.replace(/\.dat$/, '')}.`), 'latin1');
}

/** Status codes of the final replies (1xx skipped) in what a socket received, retransmissions once. */
function finalStatuses(datagrams: Buffer[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const d of datagrams) {
    const key = d.toString('latin1');
    if (seen.has(key)) continue;
    seen.add(key);
    const m = /^SIP\/2\.0 (\d{3}) /.exec(d.toString('latin1', 0, 16));
    if (!m) out.push(`garbage:${d.toString('latin1', 0, 40)}`);
    else if (!m[1]!.startsWith('1')) out.push(m[1]!);
  }
  return out;
}

describe('RFC 4475 torture messages over UDP', () => {
  let t: TestServer;
  const got = new Map<string, string[]>();
  const methods = new Map<string, string>();
  const inDialog = new Set<string>();
  let allow: Set<string>;

  before(async () => {
    t = await startTestServer('sqlite');
    allow = new Set(t.server.ctx.sip!.endpoint.capabilityHeaders().Allow!.split(', '));
    const sockets: Array<[string, SipTestClient]> = [];
    for (const row of rows) {
      const c = await SipTestClient.udp(t.sipPort);
      const text = readFileSync(dir + row.file, 'latin1');
      methods.set(row.file, /^([A-Za-z!%*_+`'~.-]+) /.exec(text)?.[1] ?? '');
      if (/^(?:To|t)\s*:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*;\s*tag\s*=/im.test(text)) inDialog.add(row.file);
      c.send(uniqueBranch(readFileSync(dir + row.file), row.file));
      sockets.push([row.file, c]);
      await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, LISTEN_MS));
    for (const [file, c] of sockets) {
      const datagrams: Buffer[] = [];
      for (let d = await c.nextRaw(1); d !== null; d = await c.nextRaw(1)) datagrams.push(d);
      got.set(file, finalStatuses(datagrams));
      await c.close();
    }
  });
  after(async () => { await t?.close(); });

  test('the manifest lists the 49 messages', () => {
    assert.equal(rows.length, 49);
  });

  for (const row of rows) {
    test(`${row.file} §${row.section} ${row.title}: ${row.replies.join('|')}`, () => {
      const statuses = got.get(row.file)!;
      if (statuses.length === 0) {
        assert.ok(row.replies.includes('none'), `no reply, but one of ${row.replies.join('|')} is required`);
        return;
      }
      // One final answer to one request (a response or dropped message gets none at all).
      assert.equal(statuses.length, 1, `replies: ${statuses.join(',')}`);
      const method = methods.get(row.file)!;
      const processable = row.replies.some((r) => r !== '400' && r !== 'none');
      const allowed = [...row.replies];
      if (processable && method !== 'SIP/2.0' && !allow.has(method)) allowed.push('405');
      if (processable && inDialog.has(row.file)) allowed.push('481');
      assert.ok(allowed.includes(statuses[0]!), `replied ${statuses[0]}, allowed ${allowed.join('|')}`);
    });
  }

  test('the server still answers OPTIONS and no handler threw', async () => {
    const c = await SipTestClient.udp(t.sipPort);
    try {
      const res = await c.request({ method: 'OPTIONS' });
      assert.equal(res.status, 200);
    } finally {
      await c.close();
    }
    assert.equal(t.server.ctx.sip!.endpoint.counters.handlerErrors, 0);
  });
});
