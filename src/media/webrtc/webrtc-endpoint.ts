/**
 * A WebRTC peer as a media-engine leg: werift terminates ICE, DTLS-SRTP and rtcp-mux in this
 * thread; the decrypted RTP crosses a loopback UDP shim (`rtp-shim.ts`) to an ordinary engine leg,
 * so bridging, mixing, transcoding (Opus ↔ G.711), players, recorders and RFC 4733 DTMF work on
 * it unchanged. Payload types on the shim are those of the SDP (no renumbering), so the leg's
 * codec is set from the negotiated description as for any RTP phone.
 *
 * Two ways to drive it:
 * - standalone (rooms, WHIP): `answer(offer)` or `createOffer()` + `acceptAnswer(answer)` — the
 *   endpoint sets its leg's remote and codec itself;
 * - behind SDP anchoring (the B2BUA): `setRemote` + `plainView` hand the anchoring code a plain
 *   RTP SDP pointing at the shim, and `localDescription(type, plain)` turns the anchored plain
 *   SDP back into a WebRTC description with the same codecs and direction.
 *
 * A peer that goes away is closed within 10 s with a reason (`peer-liveness.ts`); `closed` is
 * emitted exactly once, whoever closes.
 *
 * @example
 * const ep = await createWebRtcEndpoint(engine, { group: 'room-1', iceAddresses: ['192.0.2.1'] });
 * ep.on('closed', (reason) => log.info({ reason }, 'browser left'));
 * const answer = await ep.answer(browserOffer);
 * await engine.connect(ep.legId, [otherLeg]);
 */
import { EventEmitter } from 'node:events';
import { RTCPeerConnection, type RTCRtpTransceiver } from 'werift';
import type { LegInfo, MediaEngine } from '../media-engine.ts';
import type { LegCodec } from '../leg-codec.ts';
import type { LegId } from '../relay-protocol.ts';
import { MediaError } from '../errors.ts';
import { RtpShim } from './rtp-shim.ts';
import { sendRawRtp } from './werift-send.ts';
import { PeerLiveness, type PeerGoneReason, type PeerLivenessOptions } from './peer-liveness.ts';
import { WEBRTC_AUDIO_CODECS, legCodecOf, webRtcCodecsOf, weriftCodecs, type WebRtcCodec } from './webrtc-codecs.ts';
import { isWebRtcSdp, plainView, shapeLocal } from './sdp-view.ts';
import { WebRtcVideo, weriftVideoCodecs } from './webrtc-video.ts';

export interface WebRtcEndpointOptions {
  /** Placement group of the leg (a call id, a room id), as for `engine.createLeg`. */
  group?: string;
  near?: LegId;
  /**
   * Addresses our ICE host candidates carry (`STROWGER_WEBRTC_ADDRESSES`). A local address is
   * used as it is; a public address of a 1:1 NAT is advertised with the local port. Required:
   * werift would otherwise gather on every interface and never on loopback.
   */
  iceAddresses: readonly string[];
  /** UDP port range of ICE sockets (`STROWGER_WEBRTC_PORTS`); default: any free port. */
  icePortRange?: [number, number];
  /** Where this thread reaches the engine's legs (their bind address). Default 127.0.0.1. */
  engineAddress?: string;
  /** Timeouts of the liveness check (defaults: 10 s to connect, 8 s of silence). */
  liveness?: PeerLivenessOptions;
  /**
   * Accept the peer's video (VP8) next to its audio, for a forwarder (rooms): its camera and its
   * receive slots are in `video` (`webrtc-video.ts`). Video never reaches the engine. Default
   * false: video m-lines are handled as before (no video reaches anything).
   */
  video?: boolean;
}

export type WebRtcCloseReason = PeerGoneReason | 'closed' | 'bad-sdp' | (string & {});

export interface WebRtcEndpointStats {
  legId: LegId;
  state: string;
  iceState: string;
  /** RTP packets from the peer to the engine leg, and from the leg to the peer. */
  packetsIn: number;
  packetsOut: number;
  codec: LegCodec | null;
}

/** The DTLS-SRTP session of the endpoint as werift runs it (not as the SDP says). */
export interface DtlsSrtpState {
  /** werift's DTLS transport state: `new`, `connecting`, `connected`, `closed`, `failed`. */
  state: string;
  /** DTLS role we took (`client`/`server`; `auto` before the handshake). */
  role: string;
  /** SRTP protection profile the handshake negotiated (RFC 5764 `use_srtp`), null before keys. */
  suite: string | null;
}

/** RFC 5764 / RFC 7714 protection profile numbers werift supports, by our suite names. */
const SRTP_PROFILES: Record<number, string> = { 0x0001: 'AES_CM_128_HMAC_SHA1_80', 0x0007: 'AEAD_AES_128_GCM' };

export interface WebRtcEndpointEvents {
  /** ICE and DTLS are up: media flows. */
  connected: [];
  /** The endpoint is closed (its leg released); emitted once. */
  closed: [reason: WebRtcCloseReason];
}

/** Creates the engine leg and shim; the werift peer is made by the first offer or answer. */
export async function createWebRtcEndpoint(engine: MediaEngine, options: WebRtcEndpointOptions): Promise<WebRtcEndpoint> {
  if (!Array.isArray(options.iceAddresses) || options.iceAddresses.length === 0) {
    throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: 'iceAddresses: at least one address is required' });
  }
  const leg = await engine.createLeg({ group: options.group, near: options.near });
  let shim: RtpShim;
  try {
    shim = await RtpShim.open(options.engineAddress ?? '127.0.0.1', leg.rtpPort);
  } catch (err) {
    await engine.releaseLeg(leg.id);
    throw err;
  }
  return new WebRtcEndpoint(engine, leg, shim, options);
}

export class WebRtcEndpoint extends EventEmitter<WebRtcEndpointEvents> {
  readonly legId: LegId;
  private pc: RTCPeerConnection | null = null;
  private transceiver: RTCRtpTransceiver | null = null;
  private codec: LegCodec | null = null;
  private closedReason: WebRtcCloseReason | null = null;
  private readonly liveness: PeerLiveness;
  /** The video side (`options.video`): camera and slots once the peer's offer is set. */
  readonly video: WebRtcVideo | null;

  constructor(private readonly engine: MediaEngine, readonly leg: LegInfo, private readonly shim: RtpShim, private readonly options: WebRtcEndpointOptions) {
    super();
    this.legId = leg.id;
    this.liveness = new PeerLiveness((reason) => void this.close(reason), options.liveness);
    this.video = options.video ? new WebRtcVideo() : null;
    shim.onRtp((packet) => {
      if (this.transceiver) void sendRawRtp(this.transceiver.sender, packet);
    });
  }

  get closed(): boolean {
    return this.closedReason !== null;
  }

  /** Where the engine leg sends to: the media address of `plainView`. */
  get shimTarget(): { address: string; port: number } {
    return { address: this.shim.address, port: this.shim.port };
  }

  /** The peer offered (a browser's INVITE or room join): our answer, with the leg set up. */
  async answer(offerSdp: string): Promise<string> {
    await this.setRemote(offerSdp, 'offer');
    const answer = await this.localDescription('answer');
    await this.applyToLeg(legCodecOf(answer, offerSdp));
    return answer;
  }

  /** We offer (a call to a browser): the offer; complete with `acceptAnswer`. */
  createOffer(): Promise<string> {
    return this.localDescription('offer');
  }

  /** The peer's answer to `createOffer`; sets up the leg. */
  async acceptAnswer(answerSdp: string): Promise<void> {
    await this.setRemote(answerSdp, 'answer');
    await this.applyToLeg(legCodecOf(answerSdp));
  }

  /**
   * Gives werift the peer's description (anchoring API). A first offer creates the peer
   * connection with our codecs, payload types following the offer.
   * @throws MediaError MEDIA_ERR_BAD_OPTION for an SDP werift refuses (nothing changed).
   */
  async setRemote(sdp: string, type: 'offer' | 'answer'): Promise<void> {
    let webrtc: boolean;
    try {
      webrtc = isWebRtcSdp(sdp);
    } catch (err) {
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `WebRTC ${type} refused: ${(err as Error).message}`, cause: err });
    }
    if (!webrtc) throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `WebRTC ${type} refused: no audio stream with ICE and DTLS-SRTP` });
    const pc = this.peer(WEBRTC_AUDIO_CODECS);
    try {
      await pc.setRemoteDescription({ type, sdp });
    } catch (err) {
      throw new MediaError('MEDIA_ERR_BAD_OPTION', { detail: `WebRTC ${type} refused: ${(err as Error).message}`, cause: err });
    }
    this.transceiver ??= pc.getTransceivers().find((t) => t.kind === 'audio') ?? null;
    if (this.transceiver && type === 'offer') this.transceiver.setDirection('sendrecv');
    if (type === 'offer') this.video?.adopt(pc.getTransceivers());
    if (pc.localDescription) this.liveness.signalled();
  }

  /** The peer's SDP as plain RTP pointing at the shim (see `sdp-view.ts`). */
  plainView(remoteSdp: string): string {
    return plainView(remoteSdp, this.shimTarget);
  }

  /**
   * Our offer or answer, after ICE gathering. With `plain` (an anchored plain-RTP SDP for this
   * peer) it carries exactly `plain`'s codecs and direction; a first offer then also takes
   * `plain`'s payload types, so the shim never renumbers.
   */
  async localDescription(type: 'offer' | 'answer', plain?: string): Promise<string> {
    const pc = this.peer(plain ? codecListOf(plain) : WEBRTC_AUDIO_CODECS);
    if (!this.transceiver) this.transceiver = pc.addTransceiver('audio', { direction: 'sendrecv' });
    const made = type === 'offer' ? await pc.createOffer() : await pc.createAnswer();
    await pc.setLocalDescription(made);
    await this.gathered(pc);
    if (pc.remoteDescription) this.liveness.signalled();
    const local = pc.localDescription!.sdp;
    if (plain) return shapeLocal(local, plain);
    // Standalone answer: one codec (our preference among the offered) and its telephone-event.
    if (type === 'answer') {
      const codec = legCodecOf(local);
      if (codec) return shapeLocal(local, keepOnly(local, codec));
    }
    return local;
  }

  /** Remote = shim, codec as negotiated (the standalone path; anchoring applies its own). */
  async applyToLeg(codec: LegCodec | null): Promise<void> {
    if (this.closed) return;
    await this.engine.setRemote(this.legId, { address: this.shim.address, rtpPort: this.shim.port, rtcpMux: true });
    if (codec) await this.engine.setCodec(this.legId, codec);
    this.codec = codec;
  }

  stats(): WebRtcEndpointStats {
    return {
      legId: this.legId,
      state: this.closedReason ? 'closed' : this.pc?.connectionState ?? 'new',
      iceState: this.pc?.iceConnectionState ?? 'new',
      packetsIn: this.shim.toEngine,
      packetsOut: this.shim.fromEngine,
      codec: this.codec,
    };
  }

  /** The DTLS-SRTP session with the peer (null: no peer connection yet, or closed). */
  dtlsSrtp(): DtlsSrtpState | null {
    const dtls = this.pc?.dtlsTransports[0];
    if (!dtls || this.closed) return null;
    const profile = dtls.srtpStarted ? dtls.dtls?.srtp.srtpProfile : undefined;
    return { state: dtls.state, role: dtls.role, suite: profile === undefined ? null : SRTP_PROFILES[profile] ?? `profile-${profile}` };
  }

  /** Closes the peer and releases the leg; idempotent. `closed` carries the first reason. */
  async close(reason: WebRtcCloseReason = 'closed'): Promise<void> {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.liveness.stop();
    this.shim.close();
    this.video?.close();
    const pc = this.pc;
    this.pc = null;
    await Promise.allSettled([pc?.close(), this.engine.releaseLeg(this.legId)]);
    this.emit('closed', reason);
  }

  private peer(codecs: readonly WebRtcCodec[]): RTCPeerConnection {
    if (this.closed) throw new MediaError('MEDIA_ERR_LEG_NOT_FOUND', { detail: `WebRTC endpoint ${this.legId} is closed` });
    if (this.pc) return this.pc;
    const pc = new RTCPeerConnection({
      codecs: this.video ? { audio: weriftCodecs(codecs), video: weriftVideoCodecs() } : { audio: weriftCodecs(codecs) },
      // Candidates only on the configured addresses (werift adds every interface otherwise).
      iceUseIpv4: false,
      iceUseIpv6: false,
      iceAdditionalHostAddresses: [...this.options.iceAddresses],
      icePortRange: this.options.icePortRange,
    });
    this.pc = pc;
    pc.iceConnectionStateChange.subscribe((s) => this.liveness.iceState(s));
    pc.connectionStateChange.subscribe((s) => {
      this.liveness.connectionState(s);
      if (s === 'connected') {
        this.listenForConsentChecks(pc);
        this.emit('connected');
      }
    });
    pc.onTrack.subscribe((track) => {
      // Only audio crosses the shim: the engine's leg is an audio leg.
      const video = this.video;
      track.onReceiveRtp.subscribe(track.kind !== 'video' ? (rtp) => {
        this.liveness.heard();
        this.shim.toLeg(rtp.serialize());
      } : (rtp) => {
        this.liveness.heard();
        video?.received(rtp);
      });
      track.onReceiveRtcp.subscribe(() => this.liveness.heard());
    });
    return pc;
  }

  /** STUN consent checks of the peer count as signs of life (a held browser sends no RTP). */
  private listenForConsentChecks(pc: RTCPeerConnection): void {
    type Protocols = { protocols?: { onRequestReceived?: { subscribe(f: () => void): void } }[] };
    for (const ice of pc.iceTransports) {
      for (const p of (ice.connection as unknown as Protocols).protocols ?? []) p.onRequestReceived?.subscribe(() => this.liveness.heard());
    }
  }

  private gathered(pc: RTCPeerConnection): Promise<void> {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const { unSubscribe } = pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') { unSubscribe(); resolve(); }
      });
    });
  }
}

/** Our codecs in `plain`'s order and payload types (werift as offerer then numbers like the call). */
function codecListOf(plain: string): WebRtcCodec[] {
  const list = webRtcCodecsOf(plain).map((c) => ({ pt: c.pt, name: c.name, clockRate: c.clockRate, channels: c.channels, fmtp: c.fmtp }));
  return list.length > 0 ? list : [...WEBRTC_AUDIO_CODECS];
}

/** A minimal SDP naming only `codec` and its telephone-event, for `shapeLocal`. */
function keepOnly(local: string, codec: LegCodec): string {
  const pts = [codec.pt, ...(codec.telephoneEventPt !== null ? [codec.telephoneEventPt] : [])];
  return `v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP ${pts.join(' ')}\r\nc=IN IP4 0.0.0.0\r\n${directionLine(local)}`;
}

function directionLine(sdp: string): string {
  const m = /^a=(sendrecv|sendonly|recvonly|inactive)\r?$/m.exec(sdp);
  return `a=${m?.[1] ?? 'sendrecv'}\r\n`;
}
