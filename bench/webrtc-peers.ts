/**
 * Worker side of `bench/webrtc.ts`: K werift peers (browsers' stand-ins) that offer, send one
 * 80-byte Opus-sized RTP packet every 20 ms for the run, count what comes back, and K UDP echo
 * sockets standing in for the phones on the far side of each bridge. Runs in its own thread so
 * the main thread's CPU is the endpoint's alone.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { RTCPeerConnection, RTCRtpCodecParameters, RtpHeader, RtpPacket } from 'werift';

const { peers, seconds } = workerData as { peers: number; seconds: number };
const port = parentPort!;
const codec = (mimeType: string, clockRate: number, payloadType: number, channels?: number) =>
  new RTCRtpCodecParameters({ mimeType, clockRate, payloadType, channels, rtcpFeedback: [] });

const pcs: RTCPeerConnection[] = [];
const echoes: dgram.Socket[] = [];
let received = 0;
for (let i = 0; i < peers; i++) {
  const pc = new RTCPeerConnection({ iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'], codecs: { audio: [codec('audio/opus', 48000, 111, 2)] } });
  pc.addTransceiver('audio', { direction: 'sendrecv' });
  pc.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => { received++; }));
  await pc.setLocalDescription(await pc.createOffer());
  while (pc.iceGatheringState !== 'complete') await new Promise((r) => setTimeout(r, 5));
  pcs.push(pc);
  const echo = dgram.createSocket('udp4');
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');
  echo.on('message', (msg, r) => echo.send(msg, r.port, r.address));
  echoes.push(echo);
}
port.postMessage({ offers: pcs.map((pc) => pc.localDescription!.sdp), echoPorts: echoes.map((e) => e.address().port) });
const [{ answers }] = (await once(port, 'message')) as [{ answers: string[] }];
await Promise.all(pcs.map((pc, i) => pc.setRemoteDescription({ type: 'answer', sdp: answers[i]! })));
await Promise.all(pcs.map((pc) => new Promise<void>((resolve) => {
  if (pc.connectionState === 'connected') resolve();
  pc.connectionStateChange.subscribe((s) => s === 'connected' && resolve());
})));
port.postMessage({ connected: true });
const payload = Buffer.alloc(80, 0x5a);
let seq = 0;
const started = Date.now();
let sent = 0;
while (Date.now() - started < seconds * 1000) {
  seq++;
  for (const pc of pcs) {
    void pc.getTransceivers()[0]!.sender.sendRtp(new RtpPacket(new RtpHeader({ payloadType: 111, sequenceNumber: seq & 0xffff, timestamp: seq * 960, ssrc: 1 }), payload));
    sent++;
  }
  const next = started + seq * 20 - Date.now();
  if (next > 0) await new Promise((r) => setTimeout(r, next));
}
await new Promise((r) => setTimeout(r, 300));
port.postMessage({ sent, received });
await Promise.all(pcs.map((pc) => pc.close()));
for (const e of echoes) e.close();
