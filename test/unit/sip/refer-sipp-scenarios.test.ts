/**
 * The transfer scenarios of test/sipp/ against each other (no PBX): each one must run, pass
 * when the peer behaves and fail when it does not, so the integration tests that later drive
 * them against the PBX can trust a green or red sipp. Pure-parser tests are in the sibling files.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runSipp, sippUserRow, startSippServer } from '../../helpers/sipp.ts';
import type { SippOptions, SippResult } from '../../helpers/sipp.ts';
import { escapeUriHeaderValue, parseReferTo } from '../../../src/sip/header-refer-to.ts';
import { formatReplaces, parseReplaces } from '../../../src/sip/header-replaces.ts';

const alice = sippUserRow('alice', 'secret', 'example.com');
const why = (r: SippResult) => `exit ${r.exitCode}\n${r.errors}\n${r.stdout.slice(-1500)}`;

async function pair(server: SippOptions, client: (target: string) => SippOptions): Promise<[SippResult, SippResult]> {
  const s = await startSippServer({ calls: 1, ...server });
  try {
    const c = await runSipp({ timeoutMs: 20000, calls: 1, ...client(s.address) });
    return [c, await s.stop()];
  } finally {
    await s.stop();
  }
}

/** A temp -log_file for sipp's <log> actions; read after the run. */
async function withLog<T>(fn: (file: string) => Promise<T>): Promise<[T, string]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sipp-log-'));
  try {
    const file = path.join(dir, 'actions.log');
    const r = await fn(file);
    return [r, await readFile(file, 'utf8').catch(() => '')];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const countOf = (text: string, re: RegExp) => [...text.matchAll(re)].length;

describe('sipp transfer scenarios (RFC 3515, RFC 3891, RFC 5589)', () => {
  test('uac-refer-blind.xml against mock-refer-recipient.xml: REFER, 202, 3 NOTIFYs, final 200, BYE', async () => {
    const [c, s] = await pair({ scenario: 'mock-refer-recipient.xml', keys: { frag_final: 'SIP/2.0 200 OK' } }, (target) => ({
      scenario: 'uac-refer-blind.xml',
      target,
      service: 'bob',
      injection: { rows: [[...alice, 'carol']] },
    }));
    assert.equal(c.stats.successful, 1, why(c));
    assert.equal(s.stats.successful, 1, why(s));
    const referTo = /^Refer-To: (.*)$/m.exec(s.messages)?.[1];
    assert.equal(referTo?.trim(), `<sip:carol@127.0.0.1:${s.localPort}>`);
    assert.match(s.messages, /^Referred-By: <sip:alice@example\.com>/m);
    assert.equal(countOf(c.messages, /^NOTIFY sip:/gm), 3);
    // Three NOTIFYs received and three answers sent, all with the NOTIFY's CSeq.
    assert.equal(countOf(c.messages, /^CSeq: [123] NOTIFY/gm), 6, 'each NOTIFY answered');
  });

  test('uac-refer-blind.xml fails when the final sipfrag is 486 (a test with it can go red)', async () => {
    const [c] = await pair({ scenario: 'mock-refer-recipient.xml', keys: { frag_final: 'SIP/2.0 486 Busy Here' } }, (target) => ({
      scenario: 'uac-refer-blind.xml',
      target,
      service: 'bob',
      injection: { rows: [[...alice, 'carol']] },
    }));
    assert.equal(c.stats.successful, 0);
    assert.equal(c.stats.failed, 1);
    assert.match(c.errors, /looking in '486', with regexp '\^200\$'/);
  });

  test('uac-refer-attended.xml: the Replaces built by formatReplaces arrives escaped and parses back', async () => {
    const replaces = { callId: 'abc123@192.0.2.7', toTag: 'pbx-tag', fromTag: 'phone-tag', earlyOnly: false };
    const [c, s] = await pair({ scenario: 'mock-refer-recipient.xml', keys: { frag_final: 'SIP/2.0 200 OK' } }, (target) => ({
      scenario: 'uac-refer-attended.xml',
      target,
      service: 'bob',
      injection: { rows: [[...alice, 'carol', escapeUriHeaderValue(formatReplaces(replaces))]] },
    }));
    assert.equal(c.stats.successful, 1, why(c));
    const referTo = parseReferTo(/^Refer-To: (.*)$/m.exec(s.messages)![1].trim());
    assert.deepEqual({ ...referTo.replaces, params: undefined }, { ...replaces, params: undefined });
    assert.equal(referTo.target.user, 'carol');
  });

  test('uac-invite-replaces.xml against uas-replaces.xml: the Replaces header arrives and is logged', async () => {
    const [[c, s], log] = await withLog((file) =>
      pair({ scenario: 'uas-replaces.xml', extraArgs: ['-trace_logs', '-log_file', file] }, (target) => ({
        scenario: 'uac-invite-replaces.xml',
        target,
        service: 'bob',
        pauseMs: 50,
        injection: { rows: [[...alice, '98732@sip.example.com', 'ff87ff', 'r33th4x0r']] },
      })),
    );
    assert.equal(c.stats.successful, 1, why(c));
    assert.equal(s.stats.successful, 1, why(s));
    assert.match(log, /REPLACES call-id=98732@sip\.example\.com to-tag=ff87ff from-tag=r33th4x0r/);
    const header = /^Replaces: (.*)$/m.exec(s.messages)![1].trim();
    assert.equal(parseReplaces(header).fromTag, 'r33th4x0r');
  });

  test('uas-replaces.xml fails an INVITE without Replaces', async () => {
    const [, s] = await pair({ scenario: 'uas-replaces.xml' }, (target) => ({ scenario: 'uac', target, timeoutMs: 8000 }));
    assert.equal(s.stats.successful, 0);
    assert.match(s.errors, /header Replaces: not found/);
  });

  test('uac-consult.xml logs its dialog identifiers, then takes the far end BYE', async () => {
    const [[c, s], log] = await withLog((file) =>
      pair({ scenario: 'uas-answer-then-bye.xml', pauseMs: 100 }, (target) => ({
        scenario: 'uac-consult.xml',
        target,
        service: 'carol',
        injection: { rows: [alice] },
        extraArgs: ['-trace_logs', '-log_file', file],
      })),
    );
    assert.equal(c.stats.successful, 1, why(c));
    assert.equal(s.stats.successful, 1, why(s));
    const m = /CONSULT call-id=(\S+) local-tag=(\S+) remote-tag=(\S+)/.exec(log);
    assert.ok(m, log);
    // The identifiers are those of the dialog on the wire.
    assert.match(c.messages, new RegExp(`^Call-ID: ${m[1].replace(/[.]/g, '\\.')}`, 'm'));
    assert.match(s.messages, new RegExp(`^To: .*;tag=${m[3]}`, 'm'));
    assert.match(s.messages, new RegExp(`^From: .*;tag=${m[2]}`, 'm'));
  });

  test('uas-transfer-target.xml rings, answers and logs Referred-By', async () => {
    const [[c, s], log] = await withLog((file) =>
      pair({ scenario: 'uas-transfer-target.xml', extraArgs: ['-trace_logs', '-log_file', file] }, (target) => ({ scenario: 'uac', target, timeoutMs: 8000 })),
    );
    assert.equal(c.stats.successful, 1, why(c));
    assert.equal(s.stats.successful, 1, why(s));
    assert.match(s.messages, /SIP\/2\.0 180 Ringing/);
    assert.match(log, /^Referred-By:$/m);
  });
});
