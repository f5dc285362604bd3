/**
 * `npm run bench -- video`: main-thread CPU of room video forwarding (`src/rooms/video-router.ts`
 * over WebRTC endpoints): one publisher's camera packet is SRTP-decrypted once, then sent
 * (cloned, rewritten, SRTP-encrypted) to each of N subscribers' slots.
 *
 * Peers run in a worker thread (`video-peers.ts`): a werift publisher sending 30 packets/s of
 * ~1000-byte VP8 payload and N werift subscribers. Reported: main-thread µs per camera packet and
 * per forwarded copy, for several N; reference in the same run: the loopback shim alone (as in
 * `bench/webrtc.ts`). Env: VIDEO_BENCH_SUBSCRIBERS (default "1,4,10"), VIDEO_BENCH_SECONDS (8).
 */
import { once } from 'node:events';
import { createMediaEngine } from '../src/media/index.ts';
import { createWebRtcEndpoint, type WebRtcEndpoint } from '../src/media/webrtc/index.ts';
import { spawnWorker } from '../src/media/spawn-worker.ts';
import { threadCpuMs } from '../src/media/thread-cpu.ts';
import { VideoRouter } from '../src/rooms/video-router.ts';
import { shimReference } from './webrtc.ts';

async function once_(subscribers: number, seconds: number, engine: Awaited<ReturnType<typeof createMediaEngine>>) {
  const worker = spawnWorker(new URL('./video-peers.ts', import.meta.url), { workerData: { subscribers, seconds } });
  worker.on('error', (err) => process.stderr.write(`video bench peers: ${err.stack ?? err.message}\n`));
  const endpoints: WebRtcEndpoint[] = [];
  const router = new VideoRouter({ maxPublishers: 1, slotsPerSubscriber: 1 });
  try {
    const [{ offers }] = (await once(worker, 'message')) as [{ offers: string[] }];
    const answers: string[] = [];
    for (const [i, offer] of offers.entries()) {
      const ep = await createWebRtcEndpoint(engine, { group: 'video-bench', iceAddresses: ['127.0.0.1'], video: true });
      endpoints.push(ep);
      answers.push(await ep.answer(offer));
      router.add(`p${i}`, ep.video!);
    }
    worker.postMessage({ answers });
    await once(worker, 'message'); // connected
    const cpu0 = threadCpuMs();
    const t0 = Date.now();
    const s0 = router.stats();
    const [{ received }] = (await once(worker, 'message')) as [{ received: number }];
    const cpuMs = threadCpuMs() - cpu0;
    const wallMs = Date.now() - t0;
    const s = router.stats();
    const packetsIn = s.packets_in - s0.packets_in;
    const forwarded = s.packets_forwarded - s0.packets_forwarded;
    return { subscribers, cpuMs, wallMs, packetsIn, forwarded, received };
  } finally {
    for (const ep of endpoints) await ep.close();
    await worker.terminate();
  }
}

export async function run(): Promise<void> {
  const counts = (process.env.VIDEO_BENCH_SUBSCRIBERS ?? '1,4,10').split(',').map(Number);
  const seconds = Number(process.env.VIDEO_BENCH_SECONDS ?? 8);
  const engine = await createMediaEngine({ portRange: [42000, 42999], bindAddress: '127.0.0.1', workers: 1 });
  try {
    for (const n of counts) {
      const r = await once_(n, seconds, engine);
      process.stdout.write(
        `video forwarding: 1 publisher → ${n} subscriber(s), ${(r.wallMs / 1000).toFixed(1)} s: ${r.packetsIn} camera packets in, ${r.forwarded} copies out, ${r.received} received\n` +
        `  main thread: ${r.cpuMs} ms CPU = ${((r.cpuMs * 1000) / r.packetsIn).toFixed(1)} µs per camera packet, ${((r.cpuMs * 1000) / Math.max(1, r.forwarded)).toFixed(1)} µs per forwarded copy ` +
        `(${((r.cpuMs / r.wallMs) * 100).toFixed(1)} % of a core)\n`,
      );
    }
    process.stdout.write(`  reference, shim alone (loopback UDP send+receive in one thread): ${(await shimReference(50_000)).toFixed(1)} µs/packet\n`);
  } finally {
    await engine.close();
  }
}
