/**
 * A local Twilio for tests: an HTTP server speaking the REST wire format of the 2010-04-01 API
 * for what Strowger uses — IncomingPhoneNumbers (list with paging), Messages (create, fetch,
 * update, list) and Calls (create, fetch, update) — with Basic auth, form-encoded requests,
 * Twilio's JSON resources and error bodies. Point the server at it with
 * `STROWGER_TWILIO_API_BASE=<fake.url>`.
 *
 * It records every request (tests assert on them), can be told to answer the next N requests
 * with a 5xx, and signs webhooks the way Twilio does (HMAC-SHA1 over the URL and the sorted
 * parameters, https://www.twilio.com/docs/usage/webhooks/webhooks-security) — written here
 * from the documentation, not with the SDK function the server verifies with.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHmac, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export const FAKE_ACCOUNT_SID = 'AC' + 'a1'.repeat(16);
export const FAKE_AUTH_TOKEN = 'fake-auth-token-0123456789';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Form fields; repeated ones (MediaUrl) as arrays. */
  form: Record<string, string | string[]>;
  authorized: boolean;
}

export interface FakeNumber {
  sid?: string;
  phone_number: string;
  friendly_name?: string;
  capabilities?: { voice?: boolean; sms?: boolean; mms?: boolean; fax?: boolean };
}

type Resource = Record<string, unknown> & { sid: string };

export interface FakeTwilio {
  url: string;
  requests: RecordedRequest[];
  messages: Map<string, Resource>;
  calls: Map<string, Resource>;
  /** Elastic SIP trunks (trunking.twilio.com/v1), each with `origination_urls` kept beside it. */
  sipTrunks: Map<string, Resource>;
  originationUrls: Map<string, Resource[]>;
  /** Adds an Elastic SIP trunk with origination URLs; returns its sid. */
  addSipTrunk(friendlyName: string, secure: boolean, sipUrls: string[]): string;
  /** Replaces the account's numbers. */
  setNumbers(numbers: FakeNumber[]): void;
  /** The next `n` requests get `status` (default 500) with Twilio's error body. */
  failNext(n: number, status?: number): void;
  /** The next message create is refused with this 4xx and Twilio error code (e.g. 400, 21211). */
  rejectNextMessage(status: number, code: number, message: string): void;
  /** Requests to one resource kind, e.g. `requestsTo('POST', /Messages\.json$/)`. */
  requestsTo(method: string, path: RegExp): RecordedRequest[];
  close(): Promise<void>;
}

const sid = (prefix: string) => prefix + randomBytes(16).toString('hex');
const rfc2822 = (d = new Date()) => d.toUTCString().replace('GMT', '+0000');

/** Twilio's signature of a webhook: base64(HMAC-SHA1(token, url + each sorted key+value)). */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params).sort().reduce((acc, k) => acc + k + params[k], url);
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** POSTs a form-encoded webhook as Twilio would, signed for `signedUrl` (default: the URL posted to). */
export async function postWebhook(url: string, params: Record<string, string>, opts: { authToken?: string; signedUrl?: string; signature?: string | null; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers };
  const signature = opts.signature === undefined ? twilioSignature(opts.authToken ?? FAKE_AUTH_TOKEN, opts.signedUrl ?? url, params) : opts.signature;
  if (signature !== null) headers['x-twilio-signature'] = signature;
  const res = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(params).toString() });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
}

export async function startFakeTwilio(opts: { accountSid?: string; authToken?: string } = {}): Promise<FakeTwilio> {
  const accountSid = opts.accountSid ?? FAKE_ACCOUNT_SID;
  const authToken = opts.authToken ?? FAKE_AUTH_TOKEN;
  const requests: RecordedRequest[] = [];
  const messages = new Map<string, Resource>();
  const calls = new Map<string, Resource>();
  const sipTrunks = new Map<string, Resource>();
  const originationUrls = new Map<string, Resource[]>();
  let numbers: Resource[] = [];
  let failures: { n: number; status: number } = { n: 0, status: 500 };
  let rejection: { status: number; code: number; message: string } | null = null;
  const base = `/2010-04-01/Accounts/${accountSid}`;

  const server: Server = createServer((req, res) => {
    void readBody(req).then((raw) => handle(req, res, raw)).catch((err) => send(res, 500, { message: String(err) }));
  });

  function handle(req: IncomingMessage, res: ServerResponse, raw: string) {
    const u = new URL(req.url ?? '/', 'http://fake');
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(raw)) {
      const prev = form[k];
      form[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const expected = 'Basic ' + Buffer.from(`${accountSid}:${authToken}`).toString('base64');
    const authorized = req.headers.authorization === expected;
    const method = req.method ?? 'GET';
    requests.push({ method, path: u.pathname, query: Object.fromEntries(u.searchParams), form, authorized });

    if (failures.n > 0) {
      failures.n--;
      return send(res, failures.status, twilioError(failures.status, 20500, 'Internal Server Error'));
    }
    if (!authorized) return send(res, 401, twilioError(401, 20003, 'Authenticate'));
    const path = u.pathname;
    if (method === 'GET' && path === `${base}/IncomingPhoneNumbers.json`) return send(res, 200, listPage(u, 'incoming_phone_numbers', numbers));
    if (path === `${base}/Messages.json`) {
      if (method === 'POST') return createMessage(res, form);
      if (method === 'GET') return send(res, 200, listPage(u, 'messages', [...messages.values()]));
    }
    if (path === `${base}/Calls.json`) {
      if (method === 'POST') return createCall(res, form);
      if (method === 'GET') return send(res, 200, listPage(u, 'calls', [...calls.values()]));
    }
    if (path.startsWith('/v1/Trunks')) return trunking(req.method ?? 'GET', path, u, form, res);
    const one = /^\/2010-04-01\/Accounts\/[^/]+\/(Messages|Calls)\/([^/]+)\.json$/.exec(path);
    if (one) {
      const store = one[1] === 'Messages' ? messages : calls;
      const r = store.get(one[2]!);
      if (!r) return send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
      if (method === 'GET') return send(res, 200, r);
      if (method === 'POST') {
        if (typeof form.Status === 'string') r.status = form.Status;
        if (typeof form.Body === 'string') r.body = form.Body;
        r.date_updated = rfc2822();
        return send(res, 200, r);
      }
    }
    return send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
  }

  /** Elastic SIP Trunking v1: Trunks (list, create, update) and their OriginationUrls (list, create, update). */
  function trunking(method: string, path: string, u: URL, form: Record<string, string | string[]>, res: ServerResponse) {
    const notFound = () => send(res, 404, twilioError(404, 20404, `The requested resource ${path} was not found`));
    if (path === '/v1/Trunks') {
      if (method === 'GET') return send(res, 200, v1Page(u, 'trunks', [...sipTrunks.values()]));
      if (method === 'POST') {
        const s = addTrunk(str(form.FriendlyName) ?? '', str(form.Secure) === 'true', []);
        return send(res, 201, sipTrunks.get(s));
      }
    }
    const t = /^\/v1\/Trunks\/([^/]+)(?:\/OriginationUrls(?:\/([^/]+))?)?$/.exec(path);
    const trunk = t && sipTrunks.get(t[1]!);
    if (!t || !trunk) return notFound();
    const urls = originationUrls.get(trunk.sid)!;
    if (!path.includes('/OriginationUrls')) {
      if (method === 'GET') return send(res, 200, trunk);
      if (typeof form.Secure === 'string') trunk.secure = form.Secure === 'true';
      if (typeof form.FriendlyName === 'string') trunk.friendly_name = form.FriendlyName;
      trunk.date_updated = new Date().toISOString();
      return send(res, 200, trunk);
    }
    if (t[2] === undefined) {
      if (method === 'GET') return send(res, 200, v1Page(u, 'origination_urls', urls));
      const sipUrl = str(form.SipUrl);
      if (!sipUrl?.startsWith('sip:')) return send(res, 400, twilioError(400, 21215, 'SipUrl must be a sip: URI'));
      const r = originationUrl(trunk.sid, sipUrl, str(form.FriendlyName) ?? sipUrl);
      urls.push(r);
      return send(res, 201, r);
    }
    const url = urls.find((x) => x.sid === t[2]);
    if (!url) return notFound();
    if (method === 'POST' && typeof form.SipUrl === 'string') {
      if (!form.SipUrl.startsWith('sip:')) return send(res, 400, twilioError(400, 21215, 'SipUrl must be a sip: URI'));
      url.sip_url = form.SipUrl;
    }
    return send(res, 200, url);
  }

  function addTrunk(friendlyName: string, secure: boolean, sipUrls: string[]): string {
    const s = sid('TK');
    const now = new Date().toISOString();
    sipTrunks.set(s, {
      sid: s, account_sid: accountSid, friendly_name: friendlyName, secure, domain_name: `${s.toLowerCase()}.pstn.twilio.com`,
      date_created: now, date_updated: now, url: `https://trunking.twilio.com/v1/Trunks/${s}`,
    });
    originationUrls.set(s, sipUrls.map((x) => originationUrl(s, x, x)));
    return s;
  }

  function originationUrl(trunkSid: string, sipUrl: string, friendlyName: string): Resource {
    const s = sid('OU');
    const now = new Date().toISOString();
    return { sid: s, account_sid: accountSid, trunk_sid: trunkSid, sip_url: sipUrl, friendly_name: friendlyName, priority: 10, weight: 10, enabled: true, date_created: now, date_updated: now, url: `https://trunking.twilio.com/v1/Trunks/${trunkSid}/OriginationUrls/${s}` };
  }

  /** The v1 list page: items under `key`, paging in `meta`. */
  function v1Page(u: URL, key: string, all: Resource[]) {
    const url = `https://trunking.twilio.com${u.pathname}?PageSize=50&Page=0`;
    return { [key]: all, meta: { page: 0, page_size: 50, first_page_url: url, previous_page_url: null, url, next_page_url: null, key } };
  }

  function createMessage(res: ServerResponse, form: Record<string, string | string[]>) {
    if (rejection) {
      const r = rejection;
      rejection = null;
      return send(res, r.status, twilioError(r.status, r.code, r.message));
    }
    const to = str(form.To);
    const from = str(form.From);
    if (!to) return send(res, 400, twilioError(400, 21604, "A 'To' phone number is required."));
    if (!from) return send(res, 400, twilioError(400, 21603, "A 'From' phone number is required."));
    const media = form.MediaUrl === undefined ? [] : ([] as string[]).concat(form.MediaUrl);
    const s = sid('SM');
    const now = rfc2822();
    const msg: Resource = {
      account_sid: accountSid, api_version: '2010-04-01', body: str(form.Body) ?? '', date_created: now, date_sent: null, date_updated: now,
      direction: 'outbound-api', error_code: null, error_message: null, from, messaging_service_sid: null, num_media: String(media.length),
      num_segments: '1', price: null, price_unit: 'USD', sid: s, status: 'queued', to, uri: `${base}/Messages/${s}.json`,
      subresource_uris: { media: `${base}/Messages/${s}/Media.json` },
    };
    messages.set(s, msg);
    return send(res, 201, msg);
  }

  function createCall(res: ServerResponse, form: Record<string, string | string[]>) {
    const s = sid('CA');
    const now = rfc2822();
    const call: Resource = {
      account_sid: accountSid, api_version: '2010-04-01', date_created: now, date_updated: now, direction: 'outbound-api',
      from: str(form.From) ?? null, to: str(form.To) ?? null, sid: s, status: 'queued', uri: `${base}/Calls/${s}.json`,
    };
    calls.set(s, call);
    return send(res, 201, call);
  }

  /** Twilio's 2010 list page: PageSize (default 50), Page, with next/previous page URIs. */
  function listPage(u: URL, key: string, all: Resource[]) {
    const pageSize = Math.min(Number(u.searchParams.get('PageSize') ?? 50) || 50, 1000);
    const page = Number(u.searchParams.get('Page') ?? 0) || 0;
    const start = page * pageSize;
    const items = all.slice(start, start + pageSize);
    const uriOf = (p: number) => `${u.pathname}?PageSize=${pageSize}&Page=${p}`;
    const hasNext = start + pageSize < all.length;
    return {
      [key]: items, end: start + Math.max(items.length - 1, 0), first_page_uri: uriOf(0),
      next_page_uri: hasNext ? `${uriOf(page + 1)}&PageToken=PA${page + 1}` : null,
      page, page_size: pageSize, previous_page_uri: page > 0 ? uriOf(page - 1) : null, start, uri: uriOf(page),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests, messages, calls, sipTrunks, originationUrls,
    addSipTrunk: (friendlyName, secure, sipUrls) => addTrunk(friendlyName, secure, sipUrls),
    setNumbers(list) {
      numbers = list.map((n) => {
        const s = n.sid ?? sid('PN');
        return {
          sid: s, account_sid: accountSid, phone_number: n.phone_number, friendly_name: n.friendly_name ?? n.phone_number,
          capabilities: { voice: true, sms: true, mms: false, fax: false, ...n.capabilities },
          date_created: rfc2822(), date_updated: rfc2822(), uri: `${base}/IncomingPhoneNumbers/${s}.json`,
        };
      });
    },
    failNext(n, status = 500) { failures = { n, status }; },
    rejectNextMessage(status, code, message) { rejection = { status, code, message }; },
    requestsTo: (method, path) => requests.filter((r) => r.method === method && path.test(r.path)),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

function twilioError(status: number, code: number, message: string) {
  return { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status };
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const str = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
