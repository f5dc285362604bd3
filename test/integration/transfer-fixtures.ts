/**
 * Shared checks of the transfer and Replaces tests: sipp results, the NOTIFY sipfrags a
 * transferor received, a tone round trip through a far end's RTP echo, and the INVITE with
 * Replaces flow (alice calls bob, carol takes alice's place).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { runSipp, sippUserRow, type SippResult } from '../helpers/sipp.ts';
import type { TestServer } from '../helpers/server.ts';
import { api, DEVICE_PASSWORD, DOMAIN, deviceCall, eventually } from './call-fixtures.ts';
import { startRtpReceiver } from '../helpers/rtp-receiver.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { decodeUlaw, dominantFrequency, linearToUlaw, makeTone } from '../helpers/audio-analysis.ts';

export function assertSipp(r: SippResult, what: string): void {
  assert.equal(r.stats.successful, 1, `${what}: ${r.errors}\n${r.stdout.slice(-800)}`);
}

/** The sipfrag status lines of the NOTIFYs a sipp received, in order. */
export function sipfrags(messages: string): number[] {
  const out: number[] = [];
  for (const block of messages.split(/message received \[\d+\] bytes :/).slice(1)) {
    if (!/^\s*NOTIFY /.test(block)) continue;
    const m = /\r?\n\r?\n\s*SIP\/2\.0 (\d{3})/.exec(block);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

/**
 * Sends a 1 kHz PCMU tone to our media port `port` (as the party of that leg would) and
 * checks it comes back at 1 kHz: the party bridged to that leg echoes RTP (sipp `rtpEcho`).
 */
export async function assertToneThrough(port: number, freq = 1000): Promise<void> {
  const rx = await startRtpReceiver({ capture: true });
  try {
    const tone = makeTone({ freq, seconds: 1.2, rate: 8000, amplitude: 0.25 });
    await sendRtp({
      host: '127.0.0.1', port, socket: rx.socket, ssrc: 0x7e58, payloadType: 0, count: 60,
      payload: (i) => Buffer.from(Array.from(tone.subarray(i * 160, i * 160 + 160), linearToUlaw)),
    });
    await rx.waitFor(25, 4000);
    const pcm = decodeUlaw(Buffer.concat(rx.sources().flatMap((s) => s.payloads).slice(5)));
    const f = dominantFrequency(pcm, 8000, { min: 300, max: 3000, step: 10 });
    assert.ok(Math.abs(f - freq) <= 20, `echoed tone at ${f} Hz`);
  } finally {
    await rx.close();
  }
}

/** alice's dialog with the PBX, as `uac-consult.xml` logs it. */
export interface AliceDialog { callId: string; pbxTag: string; aliceTag: string }

/**
 * alice calls bob with `uac-consult.xml` (`extraArgs` added to sipp's); resolves with alice's
 * sipp (it ends on the PBX's BYE) and her dialog, read from `logFile`.
 */
export async function aliceCallsBob(t: TestServer, logFile: string, extraArgs: string[] = []): Promise<AliceDialog & { alice: Promise<SippResult> }> {
  const alice = runSipp(deviceCall(t, 'alice', 'bob', { scenario: 'uac-consult.xml', extraArgs: ['-trace_logs', '-log_file', logFile, ...extraArgs] }));
  const m = await eventually('alice\'s dialog', async () => /CONSULT call-id=(\S+) local-tag=(\S+) remote-tag=(\S+)/.exec(await readFile(logFile, 'utf8').catch(() => '')) ?? undefined, 20000);
  return { alice, callId: m[1]!, pbxTag: m[3]!, aliceTag: m[2]! };
}

/**
 * carol sends INVITE + Replaces naming alice's dialog (`uac-invite-replaces.xml`, `extraArgs`
 * added to sipp's) and call `id` is checked to go on with her: alice got the PBX's BYE, the API
 * shows bob and carol answered, a tone sent as carol's media comes back through bob's echo, and
 * carol's sipp ends well.
 */
export async function carolReplacesAlice(t: TestServer, id: string, dialog: AliceDialog & { alice: Promise<SippResult> }, extraArgs: string[] = []): Promise<void> {
  const carol = runSipp(deviceCall(t, 'carol', 'bob', {
    scenario: 'uac-invite-replaces.xml', pauseMs: 4000, extraArgs,
    injection: { rows: [[...sippUserRow('carol', DEVICE_PASSWORD, DOMAIN), dialog.callId, dialog.pbxTag, dialog.aliceTag]] },
  }));
  assertSipp(await dialog.alice, 'replaced caller (BYE from the PBX)');
  const call = await eventually('carol in the call', async () => { const c = await api(t, 'GET', `/api/calls/${id}`); return c.callee === 'carol' ? c : undefined; });
  assert.deepEqual([call.state, call.caller, call.callee], ['answered', 'bob', 'carol']);
  await assertToneThrough(call.legs.a.media.local_port);
  assertSipp(await carol, 'replacing phone');
}
