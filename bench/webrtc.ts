/**
 * `npm run bench -- webrtc`: main-thread CPU of WebRTC endpoints (werift ICE/DTLS-SRTP in this
 * thread + the loopback UDP shim to the engine leg), per RTP packet carried either way.
 *
 * K werift peers in a worker thread each send 50 packets/s of 80-byte Opus-sized payload; each
 * endpoint's leg is bridged (pass-through, Opus on both legs) to a plain leg whose "phone" echoes
 * the packets back, so every packet crosses the endpoint twice: peer → SRTP decrypt → shim →
 * engine, and engine → shim → SRTP encrypt → peer. Reference measured in the same run: the shim
 * alone (one loopback UDP send + receive per packet in this thread, no werift).
 * Env: WEBRTC_BENCH_PEERS (default 20), WEBRTC_BENCH_SECONDS (default 10).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { createMediaEngine } from '../src/media/index.ts';
import { createWebRtcEndpoint, type WebRtcEndpoint } from '../src/media/webrtc/index.ts';
import { spawnWorker } from '../src/media/spawn-worker.ts';
import { threadCpuMs } from '../src/media/thread-cpu.ts';

const OPUS = { pt: 111, name: 'opus', clockRate: 48000, channels: 2, fmtp: null, telephoneEventPt: null, ptime: 20 };

/** µs of this thread per loopback datagram sent and received (the shim's own work). */
export async function shimReference(packets: number): Promise<number> {
  const a = dgram.createSocket('udp4');
  const b = dgram.createSocket('udp4');
  a.bind(0, '127.0.0.1');
  b.bind(0, '127.0.0.1');
  await Promise.all([once(a, 'listening'), once(b, 'listening')]);
  const pkt = Buffer.alloc(92, 1);
  // Ping-pong (each arrival triggers the next send): nothing is lost to a full socket buffer.
  let got = 0;
  const done = new Promise<void>((resolve) => b.on('message', () => {
    if (++got === packets) resolve();
    else a.send(pkt, b.address().port, '127.0.0.1');
  }));
  const cpu0 = threadCpuMs();
  a.send(pkt, b.address().port, '127.0.0.1');
  await done;
  const cpu = threadCpuMs() - cpu0;
  a.close();
  b.close();
  return (cpu * 1000) / packets;
}

export async function run(): Promise<void> {
  const peers = Number(process.env.WEBRTC_BENCH_PEERS ?? 20);
  const seconds = Number(process.env.WEBRTC_BENCH_SECONDS ?? 10);
  const engine = await createMediaEngine({ portRange: [41000, 41999], bindAddress: '127.0.0.1', workers: 1 });
  const worker = spawnWorker(new URL('./webrtc-peers.ts', import.meta.url), { workerData: { peers, seconds } });
  const endpoints: WebRtcEndpoint[] = [];
  worker.on('error', (err) => process.stderr.write(`webrtc bench peers: ${err.stack ?? err.message}\n`));
  try {
    const [{ offers, echoPorts }] = (await once(worker, 'message')) as [{ offers: string[]; echoPorts: number[] }];
    const answers: string[] = [];
    for (let i = 0; i < peers; i++) {
      const ep = await createWebRtcEndpoint(engine, { group: `bench-${i}`, iceAddresses: ['127.0.0.1'] });
      endpoints.push(ep);
      answers.push(await ep.answer(offers[i]!));
      const far = await engine.createLeg({ group: `bench-${i}` });
      await engine.setCodec(far.id, OPUS);
      await engine.setRemote(far.id, { address: '127.0.0.1', rtpPort: echoPorts[i]!, rtcpMux: true });
      await engine.bridge(ep.legId, far.id);
    }
    worker.postMessage({ answers });
    await once(worker, "message"); // connected
    const cpu0 = threadCpuMs();
    const t0 = Date.now();
    const count = () => endpoints.reduce((n, e) => n + e.stats().packetsIn + e.stats().packetsOut, 0);
    const packets0 = count();
    const [{ sent, received }] = (await once(worker, 'message')) as [{ sent: number; received: number }];
    const cpuMs = threadCpuMs() - cpu0;
    const wallMs = Date.now() - t0;
    const packets = count() - packets0;
    const perPacketUs = (cpuMs * 1000) / packets;
    const ref = await shimReference(50_000);
    process.stdout.write(
      `webrtc endpoints: ${peers} peers × 50 pps for ${(wallMs / 1000).toFixed(1)} s; peers sent ${sent}, got back ${received}\n` +
      `  main thread: ${cpuMs} ms CPU for ${packets} packets through the endpoints = ${perPacketUs.toFixed(1)} µs/packet ` +
      `(${((cpuMs / wallMs) * 100).toFixed(1)} % of a core, ${(((cpuMs / wallMs) / peers) * 100).toFixed(2)} % per call)\n` +
      `  reference, shim alone (loopback UDP send+receive in one thread): ${ref.toFixed(1)} µs/packet\n`,
    );
  } finally {
    for (const ep of endpoints) await ep.close();
    await worker.terminate();
    await engine.close();
  }
}
