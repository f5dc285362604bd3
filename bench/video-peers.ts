/**
 * Worker side of `bench/video.ts`: one werift publisher (VP8 camera, 30 packets/s of ~1000 bytes)
 * and `subscribers` werift peers with one receive slot each, counting what they get. Its own
 * thread, so the main thread's CPU is the endpoints' and the router's alone.
 */
import { once } from 'node:events';
import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { weriftVideoPeer } from '../test/helpers/werift-video-peer.ts';

const { subscribers, seconds } = workerData as { subscribers: number; seconds: number };
const port = parentPort!;
const publisher = weriftVideoPeer('P', { camera: true, slots: 0 });
const subs = Array.from({ length: subscribers }, (_, i) => weriftVideoPeer(`S${i}`, { camera: false, slots: 1 }));
const peers = [publisher, ...subs];
port.postMessage({ offers: await Promise.all(peers.map((p) => p.offer())) });
const [{ answers }] = (await once(port, 'message')) as [{ answers: string[] }];
await Promise.all(peers.map((p, i) => p.accept(answers[i]!)));
await Promise.all(peers.map((p) => p.connected()));
port.postMessage({ connected: true });
publisher.startCamera(90, 1000);
await sleep(seconds * 1000);
publisher.stopCamera();
await sleep(200);
const received = subs.reduce((n, s) => n + [...s.received.values()].reduce((m, l) => m + l.length, 0), 0);
port.postMessage({ received });
await Promise.all(peers.map((p) => p.close()));
