import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildSippArgs,
  formatInjection,
  getFreePort,
  parseSippScreen,
  parseSippStatCsv,
  runSipp,
  SIPP_SCENARIO_DIR,
  sippAuth,
  sippUserRow,
  startSippServer,
} from '../../helpers/sipp.ts';
import type { SippOptions, SippResult, SippServer } from '../../helpers/sipp.ts';

const DOMAIN = 'example.com';
const alice = sippUserRow('alice', 'secret', DOMAIN);

/** Runs a client against a background sipp server and returns both results. */
async function pair(server: SippOptions, client: (target: string) => SippOptions): Promise<[SippResult, SippResult]> {
  const s: SippServer = await startSippServer(server);
  try {
    const c = await runSipp({ timeoutMs: 10000, ...client(s.address) });
    return [c, await s.stop()];
  } finally {
    await s.stop();
  }
}

const why = (r: SippResult) => `exit ${r.exitCode}\n${r.errors}\n${r.stdout.slice(-1500)}`;

describe('sipp harness: pure parts', () => {
  test('parseSippStatCsv reads the last row by header name', () => {
    const csv = [
      'StartTime;TotalCallCreated;SuccessfulCall(P);SuccessfulCall(C);FailedCall(C);Retransmissions(C);OutgoingCall(C)',
      '2026-01-01\t00:00:00;0;0;0;0;0;0',
      '2026-01-01\t00:00:01;5;5;4;1;2;5',
      '',
    ].join('\n');
    const s = parseSippStatCsv(csv)!;
    assert.deepEqual(
      [s.totalCallCreated, s.successful, s.failed, s.retransmissions, s.outgoingCalls, s.deadCallMsgs],
      [5, 4, 1, 2, 5, 0],
    );
    assert.equal(s.raw['SuccessfulCall(P)'], '5');
    assert.equal(parseSippStatCsv('header only\n'), null);
  });

  test('parseSippScreen reads cumulative values of the statistics screen', () => {
    const screen = [
      '  Total Calls created    |                           |        3                 ',
      '  Successful call        |        0                  |        2                 ',
      '  Failed call            |        1                  |        1                 ',
    ].join('\n');
    assert.deepEqual(parseSippScreen(screen), { successful: 2, failed: 1, totalCallCreated: 3 });
  });

  test('formatInjection and sippUserRow follow test/sipp/README.md', () => {
    assert.equal(
      formatInjection({ rows: [alice, ['bob', 1]] }),
      'SEQUENTIAL\nalice;secret;example.com;[authentication username=alice password=secret]\nbob;1\n',
    );
    assert.equal(sippAuth('u', 'p'), '[authentication username=u password=p]');
  });

  test('buildSippArgs', () => {
    const args = buildSippArgs(
      {
        scenario: 'uac-invite-auth.xml',
        target: '127.0.0.1:5070',
        transport: 't1',
        service: 'bob',
        calls: 2,
        rate: 10,
        vars: { user: 'alice' },
        rtpEcho: true,
        authUri: 'sip:bob@127.0.0.1:5070',
        traceMessages: false,
      },
      40000,
      '/tmp/x',
      '/tmp/x/in.csv',
    );
    assert.deepEqual(args, [
      '-sf', `${SIPP_SCENARIO_DIR}uac-invite-auth.xml`, '127.0.0.1:5070',
      '-t', 't1', '-i', '127.0.0.1', '-p', '40000', '-mi', '127.0.0.1',
      '-nostdin', '-skip_rlimit',
      '-trace_stat', '-stf', '/tmp/x/stat.csv', '-fd', '1',
      '-trace_err', '-error_file', '/tmp/x/errors.log',
      '-trace_screen', '-screen_file', '/tmp/x/screen.log',
      '-inf', '/tmp/x/in.csv',
      '-set', 'user', 'alice',
      '-s', 'bob', '-m', '2', '-r', '10', '-rtp_echo',
      '-auth_uri', 'bob@127.0.0.1:5070',
    ]);
    assert.deepEqual(buildSippArgs({ scenario: 'uas' }, 1, '/d').slice(0, 2), ['-sn', 'uas']);
  });

  test('getFreePort returns bindable ports', async () => {
    const [u, t, both] = await Promise.all([getFreePort('udp'), getFreePort('tcp'), getFreePort('udp+tcp')]);
    for (const p of [u, t, both]) assert.ok(p > 0 && p < 65536);
  });
});

describe('sipp harness against sipp itself (loopback)', () => {
  test('built-in uac -m 5 against built-in uas: 5 successful calls', async () => {
    const [c, s] = await pair({ scenario: 'uas' }, (target) => ({ scenario: 'uac', target, calls: 5, rate: 50 }));
    assert.equal(c.exitCode, 0, why(c));
    assert.equal(c.stats.successful, 5);
    assert.equal(c.stats.failed, 0);
    assert.equal(c.stats.outgoingCalls, 5);
    assert.equal(s.stats.incomingCalls, 5);
    assert.match(c.messages, /INVITE sip:service@127\.0\.0\.1:\d+ SIP\/2\.0/);
  });

  const registrar: SippOptions = { scenario: 'mock-registrar.xml', vars: { user: 'alice', pass: 'secret' } };

  test('register-digest.xml: two devices from the injection file, digest verified', async () => {
    const [c] = await pair(registrar, (target) => ({
      scenario: 'register-digest.xml',
      target,
      calls: 2,
      injection: { rows: [alice, alice] },
    }));
    assert.equal(c.stats.successful, 2, why(c));
    assert.match(c.messages, /Authorization: Digest username="alice",realm="sipp\.test"/);
    assert.match(c.messages, /From: <sip:alice@example\.com>;tag=/);
  });

  test('register-digest.xml with a wrong password fails (the harness sees failures)', async () => {
    const [c] = await pair(registrar, (target) => ({
      scenario: 'register-digest.xml',
      target,
      calls: 1,
      injection: { rows: [sippUserRow('alice', 'wrong', DOMAIN)] },
    }));
    assert.equal(c.exitCode, 1);
    assert.deepEqual([c.stats.successful, c.stats.failed, c.stats.failedUnexpectedMessage], [0, 1, 1]);
    assert.match(c.errors, /403 Forbidden/);
  });

  test('register-wrong-password.xml succeeds when the registrar refuses', async () => {
    const [c] = await pair(registrar, (target) => ({
      scenario: 'register-wrong-password.xml',
      target,
      calls: 1,
      injection: { rows: [sippUserRow('alice', 'wrong', DOMAIN)] },
    }));
    assert.equal(c.stats.successful, 1, why(c));
  });

  test('unregister.xml sends Expires: 0', async () => {
    const [c] = await pair(registrar, (target) => ({ scenario: 'unregister.xml', target, calls: 1, injection: { rows: [alice] } }));
    assert.equal(c.stats.successful, 1, why(c));
    assert.match(c.messages, /^Expires: 0\r?$/m);
  });

  test('register-tcp.xml over TCP (-t t1)', async () => {
    const [c] = await pair({ ...registrar, transport: 't1' }, (target) => ({
      scenario: 'register-tcp.xml',
      transport: 't1',
      target,
      calls: 1,
      injection: { rows: [alice] },
    }));
    assert.equal(c.stats.successful, 1, why(c));
    assert.match(c.messages, /Via: SIP\/2\.0\/TCP /);
  });

  test('options.xml against sipp -aa', async () => {
    const [c] = await pair({ scenario: 'uas', extraArgs: ['-aa'] }, (target) => ({ scenario: 'options.xml', target, calls: 1 }));
    assert.equal(c.stats.successful, 1, why(c));
  });

  test('uac-invite-auth.xml: challenge, authenticated INVITE, call, BYE', async () => {
    const [c, s] = await pair({ scenario: 'mock-invite-auth.xml', vars: { user: 'alice', pass: 'secret' } }, (target) => ({
      scenario: 'uac-invite-auth.xml',
      target,
      calls: 1,
      service: 'bob',
      authUri: `sip:bob@${target}`,
      injection: { rows: [alice] },
    }));
    assert.equal(c.stats.successful, 1, why(c));
    assert.equal(s.stats.successful, 1, why(s));
    assert.match(c.messages, /uri="sip:bob@127\.0\.0\.1:\d+"/);
  });

  test('uac-cancel.xml against uas-no-answer.xml', async () => {
    const [c, s] = await pair({ scenario: 'uas-no-answer.xml' }, (target) => ({
      scenario: 'uac-cancel.xml',
      target,
      calls: 1,
      service: 'bob',
      injection: { rows: [alice] },
    }));
    assert.equal(c.stats.successful, 1, why(c));
    assert.equal(s.stats.successful, 1, why(s));
    assert.match(c.messages, /CSeq: 1 CANCEL/);
  });

  test('uas-busy.xml: the built-in uac call fails with 486, the busy UAS succeeds', async () => {
    const [c, s] = await pair({ scenario: 'uas-busy.xml' }, (target) => ({ scenario: 'uac', target, calls: 1 }));
    assert.equal(c.stats.failed, 1);
    assert.match(c.errors, /486 Busy Here/);
    assert.equal(s.stats.successful, 1, why(s));
  });

  test('uac-pcap-g711a.xml against uas-answer.xml with RTP echo', async () => {
    const [c, s] = await pair({ scenario: 'uas-answer.xml', rtpEcho: true }, (target) => ({
      scenario: 'uac-pcap-g711a.xml',
      target,
      calls: 1,
      pauseMs: 200,
      service: 'bob',
      injection: { rows: [alice] },
    }));
    assert.equal(c.stats.successful, 1, why(c));
    assert.equal(s.stats.successful, 1, why(s));
    // uas-answer answers with the first offered payload type: PCMA.
    assert.match(c.messages, /m=audio \d+ RTP\/AVP 8\r?\na=sendrecv/);
  });

  test('uac-hold.xml against uas-answer.xml: hold answered inactive, resumed', async () => {
    const [c, s] = await pair({ scenario: 'uas-answer.xml' }, (target) => ({
      scenario: 'uac-hold.xml',
      target,
      calls: 1,
      service: 'bob',
      injection: { rows: [alice] },
    }));
    assert.equal(c.stats.successful, 1, why(c));
    assert.equal(s.stats.successful, 1, why(s));
    assert.match(c.messages, /CSeq: 3 INVITE/);
    assert.match(c.messages, /a=inactive/);
  });

  test('timeout kills sipp and reports it', async () => {
    const port = await getFreePort('udp');
    const r = await runSipp({ scenario: 'options.xml', target: `127.0.0.1:${port}`, calls: 1, timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.ok(r.durationMs < 3000, `took ${r.durationMs} ms`);
  });
});
