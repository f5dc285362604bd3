/**
 * A `ConferenceAdapter` for any WHIP (RFC 9725) / WHEP server: our WebRTC endpoint (werift) is
 * the client peer. It offers (all candidates gathered, no trickle), POSTs the offer as
 * `application/sdp` with the Bearer token, takes the 201's answer and `Location`, joins the room,
 * and DELETEs the resource when the link closes.
 */
import type { WebRtcEndpoint, WebRtcFactory } from '../media/webrtc/index.ts';
import type { ConferenceAdapter, ConferenceLink } from './conference-adapter.ts';
import type { Room } from './room.ts';

export interface WhipWhepAdapterOptions {
  webrtc: WebRtcFactory;
  /** The WHIP endpoint URL (publish); undefined: `publish` is not offered by this system. */
  whipUrl?: string;
  /** The WHEP endpoint URL (pull). */
  whepUrl?: string;
  /** Bearer token for both. */
  token?: string;
  /** HTTP timeout per request. Default 10 s. */
  timeoutMs?: number;
}

export class WhipWhepError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
    this.name = 'WhipWhepError';
  }
}

export class WhipWhepAdapter implements ConferenceAdapter {
  constructor(private readonly options: WhipWhepAdapterOptions) {}

  publish(room: Room, options: { displayName?: string } = {}): Promise<ConferenceLink> {
    if (!this.options.whipUrl) return Promise.reject(new WhipWhepError('no WHIP URL configured'));
    return this.link(room, this.options.whipUrl, 'whip', { hears: true, speaks: false }, options.displayName ?? 'WHIP out');
  }

  pull(room: Room, options: { displayName?: string } = {}): Promise<ConferenceLink> {
    if (!this.options.whepUrl) return Promise.reject(new WhipWhepError('no WHEP URL configured'));
    return this.link(room, this.options.whepUrl, 'whep', { hears: false, speaks: true }, options.displayName ?? 'WHEP in');
  }

  private async link(room: Room, url: string, kind: 'whip' | 'whep', role: { hears: boolean; speaks: boolean }, displayName: string): Promise<ConferenceLink> {
    const endpoint = await this.options.webrtc({ group: room.group });
    let resource: string | null = null;
    try {
      const offer = await endpoint.createOffer();
      const res = await this.request(url, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: offer });
      const answer = await res.text();
      if (res.status !== 201) throw new WhipWhepError(`${kind.toUpperCase()} ${url} answered ${res.status}: ${answer.slice(0, 200)}`, res.status);
      const location = res.headers.get('location');
      if (!location) throw new WhipWhepError(`${kind.toUpperCase()} ${url} answered 201 without Location`, res.status);
      resource = new URL(location, url).toString();
      await endpoint.acceptAnswer(answer);
      const participant = await room.join({ kind, displayName, endpoint: endpoint.legId, ...role });
      return this.track(room, endpoint, participant, resource);
    } catch (err) {
      await endpoint.close('closed');
      if (resource) await this.request(resource, { method: 'DELETE' }).catch(() => undefined);
      throw err;
    }
  }

  private track(room: Room, endpoint: WebRtcEndpoint, participant: ConferenceLink['participant'], resource: string): ConferenceLink {
    let closing: Promise<void> | null = null;
    let end!: (why: string) => void;
    const ended = new Promise<string>((resolve) => { end = resolve; });
    const close = (why = 'closed'): Promise<void> => {
      closing ??= (async () => {
        await room.leave(participant.id).catch(() => false);
        await endpoint.close('closed');
        await this.request(resource, { method: 'DELETE' }).catch(() => undefined);
        end(why);
      })();
      return closing;
    };
    endpoint.once('closed', (reason) => void close(`media: ${reason}`));
    room.once('closed', () => void close('room closed'));
    return { participant, remote: resource, ended, close: () => close() };
  }

  private request(url: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.options.token) headers.set('authorization', `Bearer ${this.options.token}`);
    return fetch(url, { ...init, headers, signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
  }
}
