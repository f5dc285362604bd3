/**
 * Shared checks of the transfer and Replaces tests: sipp results, the NOTIFY sipfrags a
 * transferor received, and a tone round trip through a far end's RTP echo.
 */
import assert from 'node:assert/strict';
import type { SippResult } from '../helpers/sipp.ts';
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
