/**
 * A browser-like werift peer with video, as the room page offers: audio (Opus), optionally a
 * camera (`sendonly` VP8) and `slots` receive-only video m-lines. It sends synthetic VP8 packets
 * (a real payload descriptor and key/delta flag, tagged with the sender's name and a counter) and
 * records what each slot receives.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';

export interface ReceivedVideo {
  ssrc: number;
  pt: number;
  seq: number;
  ts: number;
  /** Tag of the sender's payload (`A:17`), and whether it was a key frame start. */
  tag: string;
  keyframe: boolean;
}

/** A VP8 RTP payload (RFC 7741): S=1 PID=0 descriptor, payload header with P = !keyframe, then `tag`. */
export function vp8Payload(keyframe: boolean, tag: string, padding = 200): Buffer {
  return Buffer.concat([Buffer.from([0x10, keyframe ? 0x00 : 0x01]), Buffer.from(`|${tag}|`), Buffer.alloc(padding, 0x55)]);
}

function tagOf(payload: Buffer): string {
  return /\|([^|]+)\|/.exec(payload.toString('latin1'))?.[1] ?? '';
}

/**
 * `max-bundle`: werift as an offerer with several m-lines under its default `max-compat` leaves
 * the sockets of the transports BUNDLE made unused open after `close()` (the test never exits).
 */
export function weriftVideoPeer(name: string, opts: { camera: boolean; slots: number; host?: string }) {
  const pc = new RTCPeerConnection({
    iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: [opts.host ?? '127.0.0.1'], bundlePolicy: 'max-bundle',
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, payloadType: 111, channels: 2, rtcpFeedback: [] })],
      video: [new RTCRtpCodecParameters({ mimeType: 'video/VP8', clockRate: 90000, payloadType: 100, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] })],
    },
  });
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  const camera: RTCRtpTransceiver | null = opts.camera ? pc.addTransceiver('video', { direction: 'sendonly' }) : null;
  const slots = Array.from({ length: opts.slots }, () => pc.addTransceiver('video', { direction: 'recvonly' }));
  /** Packets received, by slot mid. */
  const received = new Map<string, ReceivedVideo[]>();
  pc.ontrack = (ev) => {
    if (ev.track.kind !== 'video') return;
    const mid = ev.transceiver.mid ?? '';
    const list: ReceivedVideo[] = [];
    received.set(mid, list);
    ev.track.onReceiveRtp.subscribe((rtp) => {
      list.push({ ssrc: rtp.header.ssrc, pt: rtp.header.payloadType, seq: rtp.header.sequenceNumber, ts: rtp.header.timestamp, tag: tagOf(rtp.payload), keyframe: rtp.payload[1] === 0 });
    });
  };
  let pliReceived = 0;
  let keyframeDue = false;
  camera?.sender.onPictureLossIndication.subscribe(() => { pliReceived++; keyframeDue = true; });
  let sending = false;
  const ssrc = 0x1000 + name.charCodeAt(0);
  return {
    pc, camera, slots, received, name, ssrc,
    get pliReceived() { return pliReceived; },
    async offer(): Promise<string> {
      await pc.setLocalDescription(await pc.createOffer());
      while (pc.iceGatheringState !== 'complete') await sleep(10);
      return pc.localDescription!.sdp;
    },
    accept: (answer: string) => pc.setRemoteDescription({ type: 'answer', sdp: answer }).then(() => undefined),
    connected: () => new Promise<void>((resolve) => {
      if (pc.connectionState === 'connected') return resolve();
      const { unSubscribe } = pc.connectionStateChange.subscribe((s) => { if (s === 'connected') { unSubscribe(); resolve(); } });
    }),
    /**
     * Sends camera packets at 30 per second until `stop()`: a key frame every `gop` packets or
     * right after a PLI, delta frames otherwise. Each packet is `<name>:<n>` and `padding` bytes.
     */
    startCamera(gop = 90, padding = 200): void {
      if (!camera) throw new Error('no camera');
      sending = true;
      void (async () => {
        for (let n = 0; sending; n++) {
          const keyframe = n % gop === 0 || keyframeDue;
          keyframeDue = false;
          const header = new RtpHeader({ payloadType: 100, sequenceNumber: (5000 + n) & 0xffff, timestamp: (n * 3000) >>> 0, ssrc, marker: true });
          await camera.sender.sendRtp(new RtpPacket(header, vp8Payload(keyframe, `${name}:${n}`, padding))).catch(() => undefined);
          await sleep(33);
        }
      })();
    },
    stopCamera(): void { sending = false; },
    /** Sends an RTCP PLI for what slot `mid` receives. */
    async pli(mid: string): Promise<void> {
      const t = slots.find((s) => s.mid === mid)!;
      const last = received.get(mid)?.at(-1);
      if (last) await t.receiver.sendRtcpPLI(last.ssrc);
    },
    close: async () => { sending = false; await pc.close(); },
  };
}

/** The SSRC our answer declares for the m-line `mid` (a=ssrc in that section). */
export function answerSsrc(sdp: string, mid: string): number | null {
  for (const section of sdp.split(/\r?\nm=/).slice(1)) {
    if (!new RegExp(`^a=mid:${mid}\\r?$`, 'm').test(section)) continue;
    const m = /^a=ssrc:(\d+) /m.exec(section);
    return m ? Number(m[1]) : null;
  }
  return null;
}
