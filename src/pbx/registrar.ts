/**
 * REGISTER handling (RFC 3261 §10.3): digest authentication against the device's SIP
 * password, authorization (a device registers only its own AOR), then the location service.
 * Unknown user and wrong password get the same 401; failures count toward the source's ban.
 */
import type { Logger } from 'pino';
import type { IncomingRequest } from '../sip/endpoint.ts';
import type { DigestServer } from '../sip/digest-server.ts';
import { formatNameAddr, type NameAddr } from '../sip/header-name-addr.ts';
import { formatUri } from '../sip/uri.ts';
import { copyString } from '../sip/copy-string.ts';
import { insertDeviceEvent } from '../store/device-events.ts';
import type { DeviceCredentialCache } from './device-credentials.ts';
import type { LocationService } from './location-service.ts';
import type { GuardDecisions } from './sip-guard.ts';
import type { ContactSpec } from './registrar-bindings.ts';
import { createDeviceAuth, createStatelessChallenge, type StatelessChallenge } from './device-auth.ts';
import type { SipMessage } from '../sip/message.ts';
import type { MessageSource } from '../sip/transport-types.ts';
import type { Db } from '../store/db.ts';

export interface RegistrarDeps {
  db: Db;
  digest: DigestServer;
  credentials: DeviceCredentialCache;
  location: LocationService;
  guard: GuardDecisions;
  logger: Logger;
  /** Keep a registered stream flow open without keep-alives (RFC 5626 §5.2 spirit). */
  pinConnection?(connectionId: number): void;
}

/**
 * RFC 5626 §4.1: `+sip.instance="<urn:uuid:...>"`; the quotes are the parameter's syntax
 * (RFC 3840 §9 string value), the instance is `<urn:...>`. Unquoting keeps one spelling for
 * the binding key and the API, whether or not a device quotes it.
 */
function instanceId(raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  return raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
}

function toContactSpec(na: NameAddr): ContactSpec {
  const params = new Map(na.params);
  const expiresRaw = params.get('expires');
  params.delete('expires');
  const qRaw = params.get('q');
  const regIdRaw = params.get('reg-id');
  const expires = expiresRaw === undefined || expiresRaw === null || !/^\d+$/.test(expiresRaw) ? null : Math.min(Number(expiresRaw), 2 ** 32 - 1);
  const q = qRaw === undefined || qRaw === null || Number.isNaN(Number(qRaw)) ? null : Math.max(0, Math.min(1, Number(qRaw)));
  return {
    uri: formatUri(na.uri),
    contact: formatNameAddr({ ...na, params }),
    expires,
    q,
    instanceId: instanceId(params.get('+sip.instance')),
    regId: regIdRaw !== undefined && regIdRaw !== null && /^\d+$/.test(regIdRaw) ? Number(regIdRaw) : null,
  };
}

/** The address-of-record a REGISTER is for: the user of a SIP or SIPS To URI; null for anything else (404). */
function aorOf(msg: SipMessage): string | null {
  const to = msg.to.uri;
  return (to.scheme === 'sip' || to.scheme === 'sips') && to.user ? to.user : null;
}

/** The Date header of a 200 (RFC 3261 §20.17, one-second resolution): formatted once a second. */
let dateSecond = -1;
let dateText = '';
function httpDate(nowMs: number): string {
  const second = Math.floor(nowMs / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

export function createRegistrar(deps: RegistrarDeps) {
  const { digest, credentials, location, guard, logger } = deps;
  const log = logger.child({ component: 'registrar' });

  const event = (deviceId: number | null, category: string, type: string, detail: Record<string, unknown>, ip: string) => {
    if (deviceId === null) return;
    void insertDeviceEvent(deps.db, { deviceId, category, type, detail: JSON.stringify(detail), sourceIp: ip }).catch((err) => log.warn({ err }, 'device event not written'));
  };

  const authenticate = createDeviceAuth({ digest, credentials, guard, log }, 'www');
  const challenge = createStatelessChallenge({ digest, credentials, guard }, 'www');

  /**
   * A REGISTER without credentials, challenged with no transaction (the stateless path of the
   * endpoint): the same 401 `handleRegister` would send, or null when that path must decide.
   */
  const answerStateless = (msg: SipMessage, source: MessageSource): StatelessChallenge | null => {
    return aorOf(msg) !== null ? challenge(msg, source) : null;
  };

  const handleRegister = async (r: IncomingRequest): Promise<void> => {
    const msg = r.msg;
    const ip = r.source.remoteAddress;
    const aor = aorOf(msg);
    if (aor === null) {
      r.reply(404, 'Not Found');
      return;
    }

    const auth = await authenticate(r);
    if (!auth.ok) {
      if (auth.failure) {
        const user = auth.failure.username;
        const failedId = user ? await credentials.deviceId(user) : null;
        event(failedId, 'auth', 'auth_failed', { reason: auth.failure.reason, user_agent: msg.getHeader('user-agent') }, ip);
        log.info({ ip, user, reason: auth.failure.reason }, 'REGISTER authentication failed');
      }
      return;
    }
    // §10.3 step 4: the authenticated user may only touch its own bindings.
    if (auth.username !== aor) { r.reply(403, 'Forbidden'); return; }
    const deviceId = auth.deviceId;

    const contacts = msg.contacts;
    const ua = msg.getHeader('user-agent');
    const outcome = await location.register({
      aor, deviceId,
      contacts: contacts === '*' ? '*' : contacts.length === 0 ? null : contacts.map(toContactSpec),
      expiresHeader: msg.expires,
      // Copies: a binding lives for its registration, and text cut out of the REGISTER would
      // keep all of it (~600 octets per binding).
      callId: copyString(msg.callId), cseq: msg.cseq.seq,
      transport: r.source.protocol, sourceIp: ip, sourcePort: r.source.remotePort,
      localPort: r.source.localPort || null, connectionId: r.source.connectionId ?? null,
      userAgent: ua === null ? null : copyString(ua.slice(0, 200)),
    });
    if (!outcome.ok) {
      const headers: Record<string, string> = {};
      if (outcome.minExpires !== undefined) headers['Min-Expires'] = String(outcome.minExpires);
      r.reply(outcome.status, outcome.reason, { headers });
      return;
    }
    if (r.source.connectionId !== undefined && outcome.upserts.length > 0) deps.pinConnection?.(r.source.connectionId);
    const now = Date.now();
    const contactValues = outcome.bindings.map((b) => `${b.contact};expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`);
    const headers: Record<string, string | string[]> = { Date: httpDate(now) };
    if (contactValues.length) headers.Contact = contactValues;
    r.reply(200, 'OK', { headers });
    for (const b of outcome.upserts) if (b.createdAt === b.updatedAt) event(deviceId, 'registration', 'registered', { contact: b.contactUri, transport: b.transport, user_agent: b.userAgent }, ip);
    for (const b of outcome.removals) event(deviceId, 'registration', 'unregistered', { contact: b.contactUri }, ip);
  };

  return { handleRegister, answerStateless };
}
