/**
 * Decides when a WebRTC peer is gone, so its endpoint closes within seconds rather than after
 * ICE consent expiry (RFC 7675: 30 s): a peer that never connects, whose ICE or DTLS fails,
 * whose ICE stays disconnected, or from which nothing (RTP, RTCP, STUN consent check) arrives.
 * A held browser still sends RTCP and consent checks (every 4–6 s, RFC 7675 §5.1), so silence
 * of `silenceMs` (default 8 s) means the peer vanished.
 */

export type PeerGoneReason = 'connect-timeout' | 'ice-failed' | 'ice-disconnected' | 'dtls-failed' | 'peer-closed' | 'no-media';

export interface PeerLivenessOptions {
  /** From signalling complete (both descriptions set) to connected. Default 10000. */
  connectTimeoutMs?: number;
  /** ICE `disconnected` for this long ends the peer. Default 4000. */
  disconnectedMs?: number;
  /** Nothing received for this long ends the peer. Default 8000. */
  silenceMs?: number;
  /** Check period. Default 500. */
  tickMs?: number;
  now?: () => number;
}

export class PeerLiveness {
  private lastHeard = 0;
  private connectDeadline: number | null = null;
  private disconnectedSince: number | null = null;
  private connected = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly connectTimeoutMs: number;
  private readonly disconnectedMs: number;
  private readonly silenceMs: number;
  private readonly now: () => number;

  constructor(private readonly gone: (reason: PeerGoneReason) => void, options: PeerLivenessOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.disconnectedMs = options.disconnectedMs ?? 4_000;
    this.silenceMs = options.silenceMs ?? 8_000;
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.check(), options.tickMs ?? 500);
    this.timer.unref();
  }

  /** Both descriptions are set: ICE and DTLS must now finish in time. */
  signalled(): void {
    if (!this.connected && this.connectDeadline === null) this.connectDeadline = this.now() + this.connectTimeoutMs;
  }

  /** Anything arrived from the peer. */
  heard(): void {
    this.lastHeard = this.now();
  }

  iceState(state: string): void {
    if (state === 'failed') return this.end('ice-failed');
    if (state === 'disconnected') this.disconnectedSince ??= this.now();
    else this.disconnectedSince = null;
  }

  connectionState(state: string): void {
    if (state === 'connected') {
      this.connected = true;
      this.connectDeadline = null;
      this.heard();
    } else if (state === 'failed') {
      this.end(this.connected ? 'ice-failed' : 'dtls-failed');
    } else if (state === 'closed') {
      this.end('peer-closed');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    const t = this.now();
    if (this.connectDeadline !== null && t >= this.connectDeadline) return this.end('connect-timeout');
    if (this.disconnectedSince !== null && t - this.disconnectedSince >= this.disconnectedMs) return this.end('ice-disconnected');
    if (this.connected && t - this.lastHeard >= this.silenceMs) return this.end('no-media');
  }

  private end(reason: PeerGoneReason): void {
    if (!this.timer) return;
    this.stop();
    this.gone(reason);
  }
}
