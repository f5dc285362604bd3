/**
 * The WebRTC endpoint against a real werift peer over loopback (ICE, DTLS-SRTP, rtcp-mux):
 * Opus from the peer reaches a plain PCMU leg as its tone, a PCMU tone comes back to the peer as
 * Opus (transcoded both ways by the engine), RFC 4733 keeps its payload type through the shim,
 * and a peer that vanishes is closed within 10 s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Decoder, Encoder } from '@evan/opus';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket, type RTCRtpTransceiver } from 'werift';
import { createMediaEngine, type MediaEngine } from '../../src/media/index.ts';
import { createWebRtcEndpoint, type WebRtcEndpoint } from '../../src/media/webrtc/index.ts';
import { sendRawRtp } from '../../src/media/webrtc/werift-send.ts';
import { inLoopbackNamespace } from '../helpers/netns.ts';
import { startRtpReceiver } from '../helpers/rtp-receiver.ts';
import { sendRtp } from '../helpers/rtp-sender.ts';
import { decodeUlaw, goertzelPower, linearToUlaw, makeTone, rms } from '../helpers/audio-analysis.ts';

const HOST = '127.0.0.1';
const BASE = 30000 + 2 * Math.floor(Math.random() * 4000);

/** A browser-like peer: Opus 111 + PCMU + telephone-event, offering. */
function clientPeer(): RTCPeerConnection {
  const c = (mimeType: string, clockRate: number, payloadType: number, channels?: number, parameters?: string) =>
    new RTCRtpCodecParameters({ mimeType, clockRate, payloadType, channels, parameters, rtcpFeedback: [] });
  return new RTCPeerConnection({
    iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: [HOST],
    codecs: { audio: [c('audio/opus', 48000, 111, 2, 'minptime=10;useinbandfec=1'), c('audio/PCMU', 8000, 0), c('audio/telephone-event', 48000, 110, undefined, '0-16')] },
  });
}

async function gathered(pc: RTCPeerConnection): Promise<void> {
  while (pc.iceGatheringState !== 'complete') await sleep(10);
}

async function connect(ep: WebRtcEndpoint): Promise<{ client: RTCPeerConnection; tx: RTCRtpTransceiver; received: RtpPacket[] }> {
  const client = clientPeer();
  const tx = client.addTransceiver('audio', { direction: 'sendrecv' });
  const received: RtpPacket[] = [];
  client.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => received.push(rtp)));
  await client.setLocalDescription(await client.createOffer());
  await gathered(client);
  const connected = new Promise<void>((resolve) => ep.once('connected', resolve));
  const answer = await ep.answer(client.localDescription!.sdp);
  assert.match(answer, /UDP\/TLS\/RTP\/SAVPF 111 110\r\n/, 'answer names Opus and its telephone-event only');
  assert.match(answer, /a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 \d+ typ host/);
  await client.setRemoteDescription({ type: 'answer', sdp: answer });
  await connected;
  return { client, tx, received };
}

if (inLoopbackNamespace(import.meta.url)) {
  describe('WebRTC endpoint', () => {
    let engine: MediaEngine;
    before(async () => {
      engine = await createMediaEngine({ portRange: [BASE, BASE + 99], bindAddress: HOST, workers: 1 });
    });
    after(() => engine.close());

    test('Opus tone from a werift peer reaches a PCMU leg, and a PCMU tone reaches the peer', async () => {
      const ep = await createWebRtcEndpoint(engine, { group: 'call-1', iceAddresses: [HOST] });
      const rx = await startRtpReceiver({ capture: true });
      const { client, tx, received } = await connect(ep);
      try {
        assert.equal(ep.stats().codec?.name, 'opus');
        const rtp = await engine.createLeg({ group: 'call-1' });
        await engine.setRemote(rtp.id, { address: HOST, rtpPort: rx.port });
        await engine.setCodec(rtp.id, { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 });
        await engine.bridge(ep.legId, rtp.id);

        // Peer → engine: 2 s of a 1000 Hz tone, Opus at 48 kHz, 20 ms frames.
        const enc = new Encoder({ channels: 1, sample_rate: 48000, application: 'voip' });
        const tone48 = makeTone({ freq: 1000, seconds: 2, rate: 48000, amplitude: 0.25 });
        const peerSends = (async () => {
          for (let i = 0; i < 100; i++) {
            const payload = Buffer.from(enc.encode(tone48.subarray(i * 960, (i + 1) * 960)));
            await tx.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: i, timestamp: i * 960, ssrc: 7, marker: i === 0 }), payload));
            await sleep(20);
          }
        })();
        // Engine ← PCMU 440 Hz from the plain leg's phone (sent from its own socket: symmetric RTP).
        const tone8 = makeTone({ freq: 440, seconds: 2, rate: 8000, amplitude: 0.25 });
        const phoneSends = sendRtp({
          host: HOST, port: rtp.rtpPort, socket: rx.socket, ssrc: 9, count: 100,
          payload: (i) => Buffer.from(Array.from(tone8.subarray(i * 160, (i + 1) * 160), linearToUlaw)),
        });
        await Promise.all([peerSends, phoneSends]);
        await sleep(200);

        const atPhone = rx.sources().flatMap((s) => s.payloads);
        assert.ok(atPhone.length >= 80, `PCMU packets at the phone: ${atPhone.length}`);
        const pcmu = decodeUlaw(Buffer.concat(atPhone.slice(20)));
        const p1000 = goertzelPower(pcmu, 8000, 1000, { window: 'hann' });
        assert.ok(p1000 > 0.5 * rms(pcmu) ** 2, `1000 Hz dominates at the phone (power ${p1000.toFixed(0)}, rms² ${(rms(pcmu) ** 2).toFixed(0)})`);
        assert.ok(rms(pcmu) > 1000, `phone hears the tone (rms ${rms(pcmu).toFixed(0)})`);

        const audio = received.filter((p) => p.header.payloadType === 111);
        assert.ok(audio.length >= 80, `Opus packets at the peer: ${audio.length}`);
        const dec = new Decoder({ channels: 1, sample_rate: 48000 });
        const pcm = audio.slice(20).map((p) => new Int16Array(dec.decode(p.payload).slice().buffer));
        const all = new Int16Array(pcm.reduce((n, a) => n + a.length, 0));
        let off = 0;
        for (const a of pcm) { all.set(a, off); off += a.length; }
        const p440 = goertzelPower(all, 48000, 440, { window: 'hann' });
        assert.ok(p440 > 0.5 * rms(all) ** 2, `440 Hz dominates at the peer (power ${p440.toFixed(0)}, rms² ${(rms(all) ** 2).toFixed(0)})`);
        assert.ok(rms(all) > 1000, `peer hears the tone (rms ${rms(all).toFixed(0)})`);
        const st = ep.stats();
        assert.ok(st.packetsIn >= 90 && st.packetsOut >= 80, `shim counters ${st.packetsIn}/${st.packetsOut}`);
        await engine.releaseLeg(rtp.id);
      } finally {
        await rx.close();
        await client.close();
        await ep.close();
      }
    });

    test('RFC 4733 digits from the peer keep their payload type and are detected by the engine', async () => {
      const ep = await createWebRtcEndpoint(engine, { group: 'dtmf', iceAddresses: [HOST] });
      const { client, tx } = await connect(ep);
      try {
        const other = await engine.createLeg({ group: 'dtmf' });
        await engine.setCodec(other.id, { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: 101, ptime: 20 });
        await engine.setRemote(other.id, { address: HOST, rtpPort: 9 });
        await engine.bridge(ep.legId, other.id);
        const digits: string[] = [];
        engine.on('dtmf', (e) => { if (e.legId === ep.legId) digits.push(e.digit); });
        // Event 5, 3 updates then 3 end packets (RFC 4733 §2.5.1.4), same timestamp.
        for (let i = 0; i < 6; i++) {
          const end = i >= 3;
          const payload = Buffer.from([5, (end ? 0x80 : 0) | 10, 0, 0]);
          payload.writeUInt16BE(Math.min(i + 1, 4) * 960, 2);
          // werift's own sendRtp would stamp the audio payload type on it (see werift-send.ts).
          await sendRawRtp(tx.sender, new RtpPacket(new RtpHeader({ payloadType: 110, sequenceNumber: 100 + i, timestamp: 48000, ssrc: 7, marker: i === 0 }), payload).serialize());
          await sleep(20);
        }
        const until = Date.now() + 2000;
        while (digits.length === 0 && Date.now() < until) await sleep(20);
        assert.deepEqual(digits, ['5']);
        await engine.releaseLeg(other.id);
      } finally {
        await client.close();
        await ep.close();
      }
    });

    test('a peer that vanishes (its sockets gone, no goodbye) is closed within 10 s', async () => {
      const ep = await createWebRtcEndpoint(engine, { group: 'gone', iceAddresses: [HOST] });
      const { client } = await connect(ep);
      const closed = new Promise<string>((resolve) => ep.once('closed', resolve));
      const t0 = Date.now();
      // Pull the cable: close the client's ICE sockets without DTLS close_notify or RTCP BYE.
      type Protocols = { protocols: { close(): Promise<void> }[] };
      for (const ice of client.iceTransports) for (const p of (ice.connection as unknown as Protocols).protocols) await p.close();
      const reason = await Promise.race([closed, sleep(12_000).then(() => 'still open')]);
      const elapsed = Date.now() - t0;
      assert.notEqual(reason, 'still open');
      assert.ok(elapsed <= 10_000, `closed after ${elapsed} ms (${reason})`);
      assert.match(reason, /^(no-media|ice-failed|ice-disconnected)$/);
      assert.equal(ep.stats().state, 'closed');
      await assert.rejects(engine.stats(ep.legId), /unknown media leg/, 'its leg is released');
      await client.close().catch(() => undefined);
    });

    test('bad input: no ICE address, and an SDP werift cannot use, fail clearly', async () => {
      await assert.rejects(createWebRtcEndpoint(engine, { iceAddresses: [] }), /iceAddresses/);
      const ep = await createWebRtcEndpoint(engine, { iceAddresses: [HOST] });
      await assert.rejects(ep.answer('this is not sdp'), /WebRTC offer refused|SDP/);
      await ep.close();
    });
  });
}
