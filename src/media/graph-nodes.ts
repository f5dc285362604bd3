/**
 * The endpoints of a media graph as records (RTP legs with their decode path and DTMF state,
 * players, recorders) and the counters of an RTP leg's decode path, which outlive the path
 * itself (torn down on a codec change, a move back to relay), so stats never go backwards.
 */
import type { FrameSink, FrameSource } from './frame-endpoint.ts';
import type { LegDtmfIn, LegDtmfOut } from './leg-dtmf.ts';
import type { LegId } from './relay-protocol.ts';
import type { RelayLeg } from './relay-leg.ts';
import type { RtpLegSink, RtpLegSource } from './rtp-leg-audio.ts';

/** A player or any other source the worker creates (closed when removed). */
export interface SourceEndpoint extends FrameSource {
  close(): void;
}

/** A recorder or any other sink the worker creates. */
export interface SinkEndpoint extends FrameSink {
  close(): void;
}

export type SendMode = 'idle' | 'relay' | 'transcode';

/** Decode-path loss counters, summed (see `MediaGraph.jitterTotals`). */
export interface JitterTotals {
  lost: number;
  late: number;
  concealed: number;
}

/** Decode-path counters of one RTP leg (see `LegStats.media`). */
export interface LegMediaStats {
  codec: string | null;
  /** How the leg gets what it sends: relayed packets, our own encoded frames, or nothing. */
  mode: SendMode;
  framesDecoded: number;
  framesEncoded: number;
  jitter: { late: number; lost: number; duplicate: number; concealed: number; overflow: number; resets: number };
  droppedUnknownPt: number;
  dtmfIn: number;
  dtmfOut: number;
}

export interface RtpNode {
  kind: 'rtp';
  id: LegId;
  leg: RelayLeg;
  source: RtpLegSource | null;
  sink: RtpLegSink | null;
  mode: SendMode;
  /** Totals of decode/encode paths already torn down, so stats never go backwards. */
  retired: { decoded: number; encoded: number; late: number; lost: number; duplicate: number; concealed: number; overflow: number; resets: number };
  /** Digits received from the leg (reported through `onDtmf`). */
  dtmfIn: number;
  dtmfRx: LegDtmfIn;
  dtmfTx: LegDtmfOut;
  /** Decode-path sinks hearing this leg: where its digits are regenerated. */
  dtmfTargets: LegDtmfOut[];
}

export interface SourceNode {
  kind: 'source';
  id: LegId;
  source: SourceEndpoint;
}

export interface SinkNode {
  kind: 'sink';
  id: LegId;
  sink: SinkEndpoint;
}

export type GraphNode = RtpNode | SourceNode | SinkNode;

/** Counters of an RTP leg's decode path, past paths included (see `LegStats.media`). */
export function legMediaStats(node: RtpNode): LegMediaStats {
  const r = node.retired;
  const jb = node.source?.jitter;
  return {
    codec: node.leg.codec === null ? null : `${node.leg.codec.name}/${node.leg.codec.clockRate}`,
    mode: node.mode,
    framesDecoded: r.decoded + (node.source?.framesDecoded ?? 0),
    framesEncoded: r.encoded + (node.sink?.framesEncoded ?? 0),
    jitter: {
      late: r.late + (jb?.late ?? 0),
      lost: r.lost + (jb?.lost ?? 0),
      duplicate: r.duplicate + (jb?.duplicate ?? 0),
      concealed: r.concealed + (node.source?.framesConcealed ?? 0),
      overflow: r.overflow + (jb?.overflow ?? 0),
      resets: r.resets + (jb?.resets ?? 0),
    },
    droppedUnknownPt: node.leg.droppedUnknownPt,
    dtmfIn: node.dtmfIn,
    dtmfOut: node.dtmfTx.digits,
  };
}

/** Closes the leg's decoder side (jitter buffer, decoder), keeping its counters. */
export function retireSource(node: RtpNode): void {
  const s = node.source;
  if (s === null) return;
  const r = node.retired;
  r.decoded += s.framesDecoded;
  r.concealed += s.framesConcealed;
  r.late += s.jitter.late;
  r.lost += s.jitter.lost;
  r.duplicate += s.jitter.duplicate;
  r.overflow += s.jitter.overflow;
  r.resets += s.jitter.resets;
  s.close();
  node.source = null;
}

/** Closes the leg's encoder side, keeping its counter. */
export function retireSink(node: RtpNode): void {
  const s = node.sink;
  if (s === null) return;
  node.retired.encoded += s.framesEncoded;
  s.close();
  node.sink = null;
}
