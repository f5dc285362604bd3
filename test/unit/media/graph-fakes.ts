/**
 * RTP legs for MediaGraph unit tests: sockets that record what is sent, a clock that never fires
 * by itself (tests call `graph.tick()`), and a leg factory with a remote already signalled.
 */
import type { MediaGraph } from '../../../src/media/media-graph.ts';
import { RelayLeg } from '../../../src/media/relay-leg.ts';
import type { UdpPort } from '../../../src/media/relay-leg.ts';
import type { LegCodec } from '../../../src/media/leg-codec.ts';
import type { ClockDriver } from '../../../src/media/media-clock.ts';

export class RecordingPort implements UdpPort {
  readonly sent: Buffer[] = [];
  send(msg: Uint8Array): void {
    // A copy: the decode path reuses its packet buffer and relayed packets are rewritten in place.
    this.sent.push(Buffer.from(msg));
  }
}

export const manualClock: ClockDriver = { now: () => 0, schedule: () => () => {} };

export interface FakeLeg {
  leg: RelayLeg;
  out: RecordingPort;
  remotePort: number;
}

let nextId = 1;

/** A leg added to `graph` (ids unique across the test file) with `codec` set unless null. */
export function makeLeg(graph: MediaGraph, codec: LegCodec | null): FakeLeg {
  const out = new RecordingPort();
  const id = nextId++;
  const leg = new RelayLeg(id, 10000 + id * 2, out, new RecordingPort(), 3000, 2000);
  const remotePort = 4000 + id * 2;
  leg.setRemote({ address: '192.0.2.1', rtpPort: remotePort, rtcpPort: remotePort + 1, rtcpMux: false }, 0);
  graph.addLeg(leg);
  if (codec !== null) graph.setCodec(id, codec);
  return { leg, out, remotePort };
}

/** A narrowband test codec on `pt` (8000 Hz clock), with telephone-event on `te` when given. */
export const fakeLegCodec = (name: string, pt: number, te: number | null = null): LegCodec => ({
  pt, name, clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: te, ptime: 20,
});
