/**
 * Dialog state (RFC 3261 §12): identifiers, sequence numbers, remote target and route set,
 * and the construction of in-dialog requests (§12.2.1.1). A B2BUA holds one dialog per leg.
 */
import type { SipMessage } from './message.ts';
import { formatNameAddr, type NameAddr } from './header-name-addr.ts';
import { formatUri, type SipUri } from './uri.ts';
import { createRequest, type ExtraHeaders } from './message-build.ts';

export interface DialogState {
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our From (UAC) or To (UAS) without tag. */
  localUri: NameAddr;
  remoteUri: NameAddr;
  /** Where in-dialog requests go: the peer's Contact (§12.1.1, §12.1.2). */
  remoteTarget: SipUri;
  /** Route set, in the order requests carry it (§12.1.1 UAS: as in Record-Route; §12.1.2 UAC: reversed). */
  routeSet: NameAddr[];
  localSeq: number;
  /** Highest CSeq seen from the peer; null until the first request from it (§12.2.2). */
  remoteSeq: number | null;
}

export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return `${callId}\u0000${localTag}\u0000${remoteTag}`;
}

function withoutTag(na: NameAddr): NameAddr {
  const params = new Map(na.params);
  params.delete('tag');
  return { ...na, params };
}

function firstContact(msg: SipMessage): SipUri | null {
  const c = msg.contacts;
  return c === '*' || c.length === 0 ? null : c[0]!.uri;
}

// The fields are DialogState's (declaration merging), set in one order by the constructor.
export interface Dialog extends DialogState {}

export class Dialog {
  constructor(s: DialogState) {
    this.callId = s.callId;
    this.localTag = s.localTag;
    this.remoteTag = s.remoteTag;
    this.localUri = s.localUri;
    this.remoteUri = s.remoteUri;
    this.remoteTarget = s.remoteTarget;
    this.routeSet = s.routeSet;
    this.localSeq = s.localSeq;
    this.remoteSeq = s.remoteSeq;
  }

  get key(): string {
    return dialogKey(this.callId, this.localTag, this.remoteTag);
  }

  /** §12.1.1: the UAS side of a dialog created by `invite`, answered with our `localTag`. */
  static asUas(invite: SipMessage, localTag: string): Dialog {
    return new Dialog({
      callId: invite.callId,
      localTag,
      remoteTag: invite.fromTag ?? '',
      localUri: withoutTag(invite.to),
      remoteUri: withoutTag(invite.from),
      remoteTarget: firstContact(invite) ?? invite.from.uri,
      routeSet: invite.recordRoute,
      localSeq: 0,
      remoteSeq: invite.cseq.seq,
    });
  }

  /** §12.1.2: the UAC side, from our `invite` and the peer's 1xx/2xx `response` (with To tag). */
  static asUac(invite: SipMessage, response: SipMessage): Dialog {
    return new Dialog({
      callId: invite.callId,
      localTag: invite.fromTag ?? '',
      remoteTag: response.toTag ?? '',
      localUri: withoutTag(invite.from),
      remoteUri: withoutTag(response.to),
      remoteTarget: firstContact(response) ?? invite.requestUri,
      routeSet: [...response.recordRoute].reverse(),
      localSeq: invite.cseq.seq,
      remoteSeq: null,
    });
  }

  /** §12.2.2: a request from the peer; false when its CSeq is lower than one already seen (answer 500). */
  acceptRemoteSeq(req: SipMessage): boolean {
    const seq = req.cseq.seq;
    if (req.method === 'ACK' || req.method === 'CANCEL') return true;
    if (this.remoteSeq !== null && seq < this.remoteSeq) return false;
    this.remoteSeq = seq;
    return true;
  }

  /** A target refresh (re-INVITE, UPDATE, their 2xx) updates the remote target (§12.2). */
  refreshTarget(msg: SipMessage): void {
    const c = firstContact(msg);
    if (c) this.remoteTarget = c;
  }

  /**
   * §12.2.1.1: a request within the dialog. Loose routing only (RFC 3261 `lr`): the
   * Request-URI is the remote target and the route set goes into Route headers.
   * ACK and CANCEL reuse the INVITE's CSeq number; everything else takes the next one.
   */
  createRequest(method: string, o: { contact?: string; headers?: ExtraHeaders; body?: Buffer | string; contentType?: string; cseq?: number } = {}): SipMessage {
    const cseq = o.cseq ?? ++this.localSeq;
    return createRequest({
      method,
      uri: formatUri(this.remoteTarget),
      from: `${formatNameAddr(this.localUri)};tag=${this.localTag}`,
      to: `${formatNameAddr(this.remoteUri)};tag=${this.remoteTag}`,
      callId: this.callId,
      cseq,
      route: this.routeSet,
      contact: o.contact,
      headers: o.headers,
      body: o.body,
      contentType: o.contentType,
    });
  }
}
