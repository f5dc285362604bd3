/**
 * Symmetric RTP latching (RFC 4961 "Symmetric RTP / RTCP", and the NAT-traversal practice of
 * rtpengine and friends): an endpoint behind NAT sends from an address:port that differs from
 * the one in its SDP, so we answer to wherever its media really comes from. One latch guards
 * the RTP stream of a leg and another its RTCP stream.
 *
 * The rule, in order, for each packet from `source` carrying `ssrc`:
 *
 * 1. **Not latched yet**: latch onto `source`, remember `ssrc`, open the latch window
 *    (`windowMs` from this first packet). Until then the SDP address is the send target.
 * 2. **From the latched source**: accepted (any SSRC: an endpoint may restart its stream).
 * 3. **Inside the window, from another source**: accepted and latched onto when it carries the
 *    SSRC seen first (the same stream, whose NAT binding moved) or when it comes from exactly
 *    the address:port the SDP declared (the signalled source beats a guess, which defeats an
 *    "RTP bleed" style race for the first packet). Anything else is dropped.
 * 4. **After the window, from another source**: dropped, unless the latched source has been
 *    silent for `relatchAfterMs`; then the newcomer is latched onto as in step 1 (a phone that
 *    changed network, or a peer that was on hold). This is the only way to move a latch once
 *    the window is over, so a third party cannot hijack a live stream.
 *
 * {@link reset} (on a new SDP address) forgets the latch and starts again at step 1.
 * Everything is plain number/string fields: `accept` allocates nothing.
 */
/** A latch's state, as {@link SourceLatch.exportState} gives it. */
export interface SourceLatchState {
  latched: boolean;
  address: string;
  port: number;
  ssrc: number;
  dropped: number;
  moves: number;
  windowEndsAt: number;
  lastAt: number;
  sdpAddress: string;
  sdpPort: number;
  windowMs: number;
  relatchAfterMs: number;
}

export class SourceLatch {
  latched = false;
  /** Latched source address (as reported by the socket), '' when not latched. */
  address = '';
  /** Latched source port, 0 when not latched. */
  port = 0;
  /** SSRC of the first packet of the current latch. */
  ssrc = 0;
  /** Packets dropped because they came from a source the rule refused. */
  dropped = 0;
  /** How many times the latch moved after the first latch (window moves and re-latches). */
  moves = 0;
  private windowEndsAt = 0;
  private lastAt = 0;
  private sdpAddress = '';
  private sdpPort = 0;

  constructor(
    private readonly windowMs: number,
    private readonly relatchAfterMs: number,
  ) {}

  /** Forgets the latch; `sdpAddress`/`sdpPort` are the remote as signalled in SDP. */
  reset(sdpAddress: string, sdpPort: number): void {
    this.latched = false;
    this.address = '';
    this.port = 0;
    this.ssrc = 0;
    this.windowEndsAt = 0;
    this.lastAt = 0;
    this.sdpAddress = sdpAddress;
    this.sdpPort = sdpPort;
  }

  /**
   * Applies the rule above to one packet.
   * @param now monotonic milliseconds (e.g. `performance.now()`).
   * @returns true when the packet is accepted (and the latch possibly moved), false to drop it.
   */
  accept(address: string, port: number, ssrc: number, now: number): boolean {
    if (!this.latched) {
      this.latchOnto(address, port, ssrc, now);
      return true;
    }
    if (port === this.port && address === this.address) {
      this.lastAt = now;
      return true;
    }
    if (now < this.windowEndsAt) {
      if (ssrc === this.ssrc || (port === this.sdpPort && address === this.sdpAddress)) {
        this.moveTo(address, port, now);
        return true;
      }
    } else if (now - this.lastAt >= this.relatchAfterMs) {
      this.latchOnto(address, port, ssrc, now);
      this.moves++;
      return true;
    }
    this.dropped++;
    return false;
  }

  private latchOnto(address: string, port: number, ssrc: number, now: number): void {
    this.latched = true;
    this.address = address;
    this.port = port;
    this.ssrc = ssrc;
    this.windowEndsAt = now + this.windowMs;
    this.lastAt = now;
  }

  /** Everything the rule depends on, for a relay that continues this latch elsewhere (native-relay.ts). */
  exportState(): SourceLatchState {
    return {
      latched: this.latched, address: this.address, port: this.port, ssrc: this.ssrc, dropped: this.dropped, moves: this.moves,
      windowEndsAt: this.windowEndsAt, lastAt: this.lastAt, sdpAddress: this.sdpAddress, sdpPort: this.sdpPort,
      windowMs: this.windowMs, relatchAfterMs: this.relatchAfterMs,
    };
  }

  /** Continues from a state {@link exportState} gave (the window settings stay this latch's own). */
  importState(s: SourceLatchState): void {
    this.latched = s.latched;
    this.address = s.address;
    this.port = s.port;
    this.ssrc = s.ssrc;
    this.dropped = s.dropped;
    this.moves = s.moves;
    this.windowEndsAt = s.windowEndsAt;
    this.lastAt = s.lastAt;
    this.sdpAddress = s.sdpAddress;
    this.sdpPort = s.sdpPort;
  }

  private moveTo(address: string, port: number, now: number): void {
    this.address = address;
    this.port = port;
    this.lastAt = now;
    this.moves++;
  }
}
