/**
 * Cost of a call's graph changes in a media worker that already carries many calls (not in
 * `npm run bench`): per call, bridge two PCMU legs with their codecs set, then remove both
 * (6 graph changes), with 0, 500 and 2,000 relayed calls up, in one thread, no sockets.
 * A change re-derives only the part of the graph it touches, so the figure must not grow
 * with the calls up (it did: 50 -> 2,417 us per call at 2,000 calls before `graph-topology.ts`).
 *
 *   node --import tsx bench/graph-micro.ts
 */
import { MediaGraph } from '../src/media/media-graph.ts';
import { graphCodecs, graphResampler } from '../src/media/graph-codecs.ts';
import { RelayLeg } from '../src/media/relay-leg.ts';
import type { UdpPort } from '../src/media/relay-leg.ts';
import type { LegCodec } from '../src/media/leg-codec.ts';

const nowhere: UdpPort = { send: () => {} };
const PCMU: LegCodec = { name: 'PCMU', pt: 0, clockRate: 8000, channels: 1, telephoneEventPt: 101, ptime: 20, fmtp: null };
let nextId = 1;

function leg(g: MediaGraph): number {
  const id = nextId++;
  const l = new RelayLeg(id, 20000 + id * 2, nowhere, nowhere, 3000, 2000);
  l.setRemote({ address: '192.0.2.1', rtpPort: 30000, rtcpPort: 30001, rtcpMux: false }, 0);
  g.addLeg(l);
  g.setCodec(id, PCMU);
  return id;
}

const reference = (() => {
  // A loop of Map writes and reads of the same count, so a noisy machine shows in both.
  const m = new Map<number, number>();
  const t0 = performance.now();
  for (let i = 0; i < 600_000; i++) { m.set(i & 4095, i); m.get((i * 7) & 4095); }
  return (performance.now() - t0) / 300;
})();

for (const up of [0, 500, 2000]) {
  const g = new MediaGraph({ codecs: graphCodecs, resampler: graphResampler, onRecomputed: () => {} });
  for (let i = 0; i < up; i++) g.bridge(leg(g), leg(g), 0);
  const n = 300;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const a = leg(g);
    const b = leg(g);
    g.bridge(a, b, 0);
    g.remove(a);
    g.remove(b);
  }
  const us = ((performance.now() - t0) / n) * 1000;
  console.log(`${String(up).padStart(5)} calls up: ${us.toFixed(0).padStart(5)} us per call's graph changes (reference: ${(reference * 1000).toFixed(0)} us for 2,000 Map operations)`);
  g.clock.stop();
}
console.log(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
