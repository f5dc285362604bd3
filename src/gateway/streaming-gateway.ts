/**
 * Streaming gateway: an RTP leg in the room that hears the mix (and says nothing) sends it as
 * PCMU to a local `ffmpeg`, which reads it through an SDP file and pushes AAC in FLV to
 * `rtmpDst`. ffmpeg is restarted with a back-off when it exits (RTMP server gone); after the
 * retries the gateway reports `failed`. Audio only.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaEngine } from '../media/media-engine.ts';
import type { LegCodec } from '../media/leg-codec.ts';
import type { LegId } from '../media/relay-protocol.ts';
import type { Room } from '../rooms/room.ts';
import { FfmpegRtmp } from './ffmpeg-rtmp.ts';
import { freeUdpPortPair } from './udp-port-pair.ts';
import type { GatewayParams, GatewayRunner, RunnerFailed } from './gateway-types.ts';

const PCMU: LegCodec = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 };
const LOOPBACK = '127.0.0.1';

export interface StreamingGatewayDeps {
  media: Pick<MediaEngine, 'createLeg' | 'setCodec' | 'setRemote' | 'setDirection' | 'releaseLeg'>;
  maxRetries: number;
  retryBaseMs: number;
  failed: RunnerFailed;
}

/** The SDP ffmpeg reads: PCMU from us on a loopback port (RFC 4566; RFC 3551 payload type 0). */
export function ffmpegSdp(port: number): string {
  return ['v=0', `o=- 0 0 IN IP4 ${LOOPBACK}`, 's=strowger room mix', `c=IN IP4 ${LOOPBACK}`, 't=0 0',
    `m=audio ${port} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=recvonly', ''].join('\r\n');
}

export class StreamingGateway implements GatewayRunner {
  readonly task = 'streaming' as const;
  participantId: string | null = null;
  private room: Room | null = null;
  private leg: LegId | null = null;
  private dir: string | null = null;
  private ffmpeg: FfmpegRtmp | null = null;
  private stopping: { left: Promise<void>; done: Promise<void> } | null = null;

  constructor(private readonly params: GatewayParams, private readonly deps: StreamingGatewayDeps) {}

  async start(room: Room): Promise<void> {
    const rtmpDst = this.params.rtmpDst!;
    try {
      this.dir = await mkdtemp(join(tmpdir(), 'strowger-stream-'));
      const port = await freeUdpPortPair(LOOPBACK);
      const sdpPath = join(this.dir, 'mix.sdp');
      await writeFile(sdpPath, ffmpegSdp(port));
      const leg = await this.deps.media.createLeg({ group: room.group });
      this.leg = leg.id;
      await this.deps.media.setCodec(leg.id, PCMU);
      // We only send: the leg expects no RTP back, so no RTP timeout ends it.
      await this.deps.media.setDirection(leg.id, 'sendonly');
      await this.deps.media.setRemote(leg.id, { address: LOOPBACK, rtpPort: port });
      this.ffmpeg = new FfmpegRtmp({
        sdpPath, rtmpDst, maxRetries: this.deps.maxRetries, retryBaseMs: this.deps.retryBaseMs,
        onGiveUp: (reason) => this.deps.failed(`RTMP stream to ${rtmpDst} failed: ${reason}`),
      });
      this.ffmpeg.start();
      const me = await room.join({ kind: 'rtmp', displayName: this.params.fromId || `stream ${this.params.gwId}`, endpoint: leg.id, speaks: false });
      this.participantId = me.id;
      this.room = room;
    } catch (err) {
      await this.release();
      throw err;
    }
  }

  stop(): { left: Promise<void>; done: Promise<void> } {
    if (this.stopping !== null) return this.stopping;
    const left = this.release();
    this.stopping = { left, done: left };
    return this.stopping;
  }

  status(): Record<string, unknown> {
    return {
      rtmp_dst: this.params.rtmpDst,
      ffmpeg_running: this.ffmpeg?.running ?? false,
      ffmpeg_runs: this.ffmpeg?.runs ?? 0,
      retries: this.ffmpeg?.retries ?? 0,
      last_error: this.ffmpeg?.lastErrorLine || null,
    };
  }

  private async release(): Promise<void> {
    if (this.room !== null && this.participantId !== null) await this.room.leave(this.participantId).catch(() => false);
    this.participantId = null;
    await this.ffmpeg?.stop();
    if (this.leg !== null) await this.deps.media.releaseLeg(this.leg).catch(() => false);
    this.leg = null;
    if (this.dir !== null) await rm(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
