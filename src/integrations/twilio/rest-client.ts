/**
 * The Twilio REST calls Strowger makes, through the official `twilio` SDK, behind a small
 * interface (`TwilioRest`) that speaks our words: numbers, messages, and one error type that
 * says whether trying again can help.
 *
 * `apiBase` replaces `https://<product>.twilio.com` in every URL the SDK builds (first pages,
 * next-page links, fetches): the SDK has no host option (`edge`/`region` only rename the
 * Twilio host), so a `RequestClient` subclass rewrites the URI just before axios sends it.
 * Tests point it at `test/helpers/fake-twilio.ts`; production leaves it unset.
 *
 * The SDK (with axios under it, ~2 MB of heap) is imported on the first call, not at start:
 * most servers never talk to Twilio.
 *
 * @example
 * const rest = createTwilioRest({ accountSid: 'AC…', authToken: '…' });
 * const msg = await rest.createMessage({ from: '+15550001111', to: '+15550002222', body: 'hi' });
 */
import type RequestClient from 'twilio/lib/base/RequestClient.js';

type TwilioSdk = typeof import('twilio');
type TwilioClient = ReturnType<TwilioSdk>;

export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
}

export interface TwilioRestOptions extends TwilioCredentials {
  /** e.g. `http://127.0.0.1:4010`; undefined = the real Twilio hosts. */
  apiBase?: string;
  /** Per request, ms (the SDK's default is 30 s, too long for a send queue). */
  timeoutMs?: number;
}

export interface TwilioNumber {
  sid: string;
  phoneNumber: string;
  friendlyName: string | null;
  capabilities: { voice: boolean; sms: boolean; mms: boolean };
}

export interface TwilioMessage {
  sid: string;
  /** Twilio's status: queued, accepted, sending, sent, delivered, undelivered, failed, … */
  status: string;
  errorCode: number | null;
  errorMessage: string | null;
}

export interface NewTwilioMessage {
  from: string;
  to: string;
  body: string;
  mediaUrls?: string[];
  statusCallback?: string;
}

export interface TwilioRest {
  /** Every number of the account (all pages). */
  listIncomingNumbers(): Promise<TwilioNumber[]>;
  createMessage(m: NewTwilioMessage): Promise<TwilioMessage>;
  fetchMessage(sid: string): Promise<TwilioMessage>;
  /** Elastic SIP Trunking (trunking.twilio.com/v1): the account's trunks, with their origination URLs. */
  listSipTrunks(): Promise<TwilioSipTrunk[]>;
  /** Secure Trunking on or off: TLS signalling and SRTP media for every call of the trunk. */
  setSipTrunkSecure(trunkSid: string, secure: boolean): Promise<void>;
  setOriginationUrl(trunkSid: string, urlSid: string, sipUrl: string): Promise<void>;
  createSipTrunk(t: { friendlyName: string; secure: boolean; originationUrl: string }): Promise<TwilioSipTrunk>;
}

export interface TwilioOriginationUrl {
  sid: string;
  sipUrl: string;
  priority: number;
  weight: number;
  enabled: boolean;
}

export interface TwilioSipTrunk {
  sid: string;
  friendlyName: string | null;
  secure: boolean;
  originationUrls: TwilioOriginationUrl[];
}

/**
 * A failed REST call. `retryable`: Twilio was unreachable, timed out, or answered 429/5xx —
 * the same request may succeed later. Otherwise Twilio refused it (4xx) and says why in
 * `code` (https://www.twilio.com/docs/api/errors) and `message`.
 */
export class TwilioRestError extends Error {
  constructor(message: string, readonly status: number | null, readonly code: number | null, readonly retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TwilioRestError';
  }
}

const TWILIO_HOST = /^https:\/\/[a-z0-9.-]+\.twilio\.com(?=\/|$)/;

/** The SDK's HTTP client with the Twilio origin swapped for `base` (path and query kept). */
function rebasedRequestClient(sdk: TwilioSdk, base: string, timeout: number): RequestClient {
  class RebasedRequestClient extends sdk.RequestClient {
    override request<T>(opts: RequestClient.RequestOptions<T>) {
      return super.request<T>({ ...opts, uri: opts.uri.replace(TWILIO_HOST, base) });
    }
  }
  return new RebasedRequestClient({ timeout });
}

async function connect(opts: TwilioRestOptions): Promise<TwilioClient> {
  const { default: sdk } = await import('twilio');
  const timeout = opts.timeoutMs ?? 10_000;
  const httpClient = opts.apiBase ? rebasedRequestClient(sdk, opts.apiBase, timeout) : new sdk.RequestClient({ timeout });
  return sdk(opts.accountSid, opts.authToken, { httpClient });
}

export function createTwilioRest(opts: TwilioRestOptions): TwilioRest {
  let client: Promise<TwilioClient> | null = null;
  /** Runs one SDK call and turns whatever it throws into a TwilioRestError. */
  const call = <T>(fn: (c: TwilioClient) => Promise<T>): Promise<T> => callSdk(async () => fn(await (client ??= connect(opts))));
  return {
    listIncomingNumbers: () => call(async (client) => {
      const list = await client.incomingPhoneNumbers.list({ pageSize: 100 });
      return list.map((n) => ({
        sid: n.sid,
        phoneNumber: n.phoneNumber,
        friendlyName: n.friendlyName ?? null,
        capabilities: { voice: !!n.capabilities?.voice, sms: !!n.capabilities?.sms, mms: !!n.capabilities?.mms },
      }));
    }),
    createMessage: (m) => call(async (client) => toMessage(await client.messages.create({
      from: m.from, to: m.to, body: m.body,
      ...(m.mediaUrls?.length ? { mediaUrl: m.mediaUrls } : {}),
      ...(m.statusCallback ? { statusCallback: m.statusCallback } : {}),
    }))),
    fetchMessage: (sid) => call(async (client) => toMessage(await client.messages(sid).fetch())),
    listSipTrunks: () => call(async (client) => {
      const trunks = await client.trunking.v1.trunks.list({ pageSize: 100 });
      return Promise.all(trunks.map(async (t) => toSipTrunk(t, await client.trunking.v1.trunks(t.sid).originationUrls.list({ pageSize: 100 }))));
    }),
    setSipTrunkSecure: (trunkSid, secure) => call(async (client) => { await client.trunking.v1.trunks(trunkSid).update({ secure }); }),
    setOriginationUrl: (trunkSid, urlSid, sipUrl) => call(async (client) => { await client.trunking.v1.trunks(trunkSid).originationUrls(urlSid).update({ sipUrl }); }),
    createSipTrunk: (t) => call(async (client) => {
      const trunk = await client.trunking.v1.trunks.create({ friendlyName: t.friendlyName, secure: t.secure });
      const url = await client.trunking.v1.trunks(trunk.sid).originationUrls.create({ friendlyName: t.friendlyName, sipUrl: t.originationUrl, priority: 10, weight: 10, enabled: true });
      return toSipTrunk(trunk, [url]);
    }),
  };
}

function toSipTrunk(t: { sid: string; friendlyName: string; secure: boolean }, urls: Array<{ sid: string; sipUrl: string; priority: number; weight: number; enabled: boolean }>): TwilioSipTrunk {
  return {
    sid: t.sid, friendlyName: t.friendlyName ?? null, secure: !!t.secure,
    originationUrls: urls.map((u) => ({ sid: u.sid, sipUrl: u.sipUrl, priority: u.priority, weight: u.weight, enabled: !!u.enabled })),
  };
}

function toMessage(m: { sid: string; status: string; errorCode: number | null; errorMessage: string | null }): TwilioMessage {
  return { sid: m.sid, status: m.status, errorCode: m.errorCode ?? null, errorMessage: m.errorMessage ?? null };
}

async function callSdk<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toRestError(err);
  }
}

function toRestError(err: unknown): TwilioRestError {
  const e = err as { status?: unknown; code?: unknown; message?: string };
  // RestException (the SDK's) carries the HTTP status and Twilio's numeric code; axios
  // network errors carry a string code (ECONNREFUSED, ECONNABORTED) and no status.
  if (typeof e.status === 'number') {
    const status = e.status;
    const retryable = status === 429 || status >= 500;
    return new TwilioRestError(e.message || `Twilio answered ${status}`, status, typeof e.code === 'number' ? e.code : null, retryable, { cause: err });
  }
  const why = typeof e.code === 'string' ? `${e.code}: ${e.message ?? ''}` : e.message ?? String(err);
  return new TwilioRestError(`Twilio unreachable (${why})`, null, null, true, { cause: err });
}
