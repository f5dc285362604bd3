/**
 * A browser-like werift peer for tests: offers Opus (+ PCMU, telephone-event) with every ICE
 * candidate on 127.0.0.1, sends an Opus tone, and decodes what it receives to 48 kHz PCM.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Decoder, Encoder } from '@evan/opus';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { makeTone } from './audio-analysis.ts';

export interface WeriftPeer {
  pc: RTCPeerConnection;
  tx: RTCRtpTransceiver;
  /** Opus packets received, in arrival order. */
  received: RtpPacket[];
  /** The complete offer (gathering done). */
  offer(): Promise<string>;
  accept(answer: string): Promise<void>;
  connected(): Promise<void>;
  /** Sends `seconds` of a tone as 20 ms Opus frames, paced in real time. */
  sendTone(freq: number, seconds: number): Promise<void>;
  /** Decoded PCM (48 kHz mono) of the packets received after `fromIndex`. */
  heard(fromIndex?: number): Int16Array;
  close(): Promise<void>;
}

export function weriftPeer(host = '127.0.0.1'): WeriftPeer {
  const c = (mimeType: string, clockRate: number, payloadType: number, channels?: number, parameters?: string) =>
    new RTCRtpCodecParameters({ mimeType, clockRate, payloadType, channels, parameters, rtcpFeedback: [] });
  const pc = new RTCPeerConnection({
    iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: [host],
    codecs: { audio: [c('audio/opus', 48000, 111, 2, 'minptime=10;useinbandfec=1'), c('audio/PCMU', 8000, 0), c('audio/telephone-event', 48000, 110, undefined, '0-16')] },
  });
  const tx = pc.addTransceiver('audio', { direction: 'sendrecv' });
  const received: RtpPacket[] = [];
  pc.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => { if (rtp.header.payloadType === 111) received.push(rtp); }));
  let seq = 0;
  let ts = 0;
  return {
    pc, tx, received,
    async offer() {
      await pc.setLocalDescription(await pc.createOffer());
      while (pc.iceGatheringState !== 'complete') await sleep(10);
      return pc.localDescription!.sdp;
    },
    accept: (answer) => pc.setRemoteDescription({ type: 'answer', sdp: answer }).then(() => undefined),
    connected: () => new Promise((resolve) => {
      if (pc.connectionState === 'connected') return resolve();
      const { unSubscribe } = pc.connectionStateChange.subscribe((s) => { if (s === 'connected') { unSubscribe(); resolve(); } });
    }),
    async sendTone(freq, seconds) {
      const enc = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
      const tone = makeTone({ freq, seconds, rate: 48000, amplitude: 0.25 });
      const frames = Math.floor(seconds * 50);
      const t0 = Date.now();
      for (let i = 0; i < frames; i++) {
        const payload = Buffer.from(enc.encode(tone.subarray(i * 960, (i + 1) * 960)));
        await tx.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: (ts += 960) >>> 0, ssrc: 7, marker: i === 0 }), payload));
        const ahead = t0 + (i + 1) * 20 - Date.now();
        if (ahead > 0) await sleep(ahead);
      }
    },
    heard(fromIndex = 0) {
      const dec = new Decoder({ channels: 1, sample_rate: 48000 });
      const parts = received.slice(fromIndex).map((p) => new Int16Array(dec.decode(p.payload).slice().buffer));
      const all = new Int16Array(parts.reduce((n, a) => n + a.length, 0));
      let off = 0;
      for (const a of parts) { all.set(a, off); off += a.length; }
      return all;
    },
    close: () => pc.close(),
  };
}
