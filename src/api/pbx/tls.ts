/**
 * `/api/system/tls/*` (seed 003, issue 16): the certificate our SIP TLS and WSS listeners
 * present — what it says, where it comes from (self-signed, uploaded PEM, ACME), renewal and
 * hot reload. A refused certificate is 400 and an ACME failure 502, both with the reason; in
 * either case the certificate in use stays. The private key never leaves the server.
 */
import type { FastifyInstance } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ApiContext } from '../context.ts';
import { ApiError, errorResponses, validationError } from '../shared/errors.ts';
import { CertificateRejected } from '../../sip/tls-certificate-check.ts';
import { AcmeFailed } from '../../pbx/tls/tls-acme.ts';
import { domainsProblem, MAX_DOMAINS } from '../../pbx/tls/tls-settings.ts';
import type { ServedCertificate, TlsCertificates } from '../../pbx/tls/tls-certificates.ts';

const Source = Type.Union([Type.Literal('self-signed'), Type.Literal('pem'), Type.Literal('acme'), Type.Literal('file')]);

const Certificate = Type.Object({
  subject: Type.String({ examples: ['CN=pbx.example.com'] }),
  issuer: Type.String(),
  sans: Type.Array(Type.String(), { description: 'subjectAltName DNS names and IP addresses' }),
  not_before: Type.String({ format: 'date-time' }),
  not_after: Type.String({ format: 'date-time' }),
  days_left: Type.Number(),
  fingerprint256: Type.String(),
  serial_number: Type.String(),
  self_signed: Type.Boolean(),
});

const TlsStatus = Type.Object({
  source: Source,
  domains: Type.Array(Type.String()),
  acme: Type.Union([Type.Object({ directory_url: Type.String(), email: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
  auto_renew: Type.Boolean(),
  renew_before_days: Type.Integer(),
  renewal_due_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the timer renews (acme and self-signed with auto_renew)' }),
  last_renewal: Type.Union([Type.Object({ at: Type.String(), ok: Type.Boolean(), error: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]),
  certificate: Certificate,
  listeners: Type.Array(Type.Object({ protocol: Type.String({ examples: ['tls'] }), address: Type.String(), port: Type.Integer() }), { description: 'SIP TLS and WSS listeners presenting it (none when SIP does not run)' }),
});

const TlsConfigBody = Type.Object({
  source: Type.Union([Type.Literal('self-signed'), Type.Literal('pem'), Type.Literal('acme')]),
  domains: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: MAX_DOMAINS, description: 'acme: the names to order; self-signed: its SANs' })),
  acme_directory_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2048, examples: ['https://acme-v02.api.letsencrypt.org/directory'] })),
  acme_email: Type.Optional(Type.Union([Type.String({ format: 'email', maxLength: 254 }), Type.Null()])),
  certificate_pem: Type.Optional(Type.String({ maxLength: 65_536, description: 'pem: the chain, leaf first' })),
  private_key_pem: Type.Optional(Type.String({ maxLength: 16_384, description: 'pem: the unencrypted private key of the leaf' })),
  auto_renew: Type.Optional(Type.Boolean()),
  renew_before_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
}, { additionalProperties: false, examples: [{ source: 'acme', domains: ['pbx.example.com'], acme_directory_url: 'https://acme-v02.api.letsencrypt.org/directory', acme_email: 'ops@example.com' }] });
type TlsConfigBody = Static<typeof TlsConfigBody>;

const CertificatePem = Type.Object({ source: Source, certificate_pem: Type.String({ description: 'The chain served, leaf first; never the key' }), certificate: Certificate });

function certificateView(served: ServedCertificate, now: number) {
  const i = served.info;
  return {
    subject: i.subject, issuer: i.issuer, sans: i.sans, not_before: i.notBefore, not_after: i.notAfter,
    days_left: Math.floor((Date.parse(i.notAfter) - now) / 86_400_000), fingerprint256: i.fingerprint256, serial_number: i.serialNumber, self_signed: i.selfSigned,
  };
}

/** Field errors of a config request, beyond what the schema checks. */
function configProblems(body: TlsConfigBody): Array<{ field: string; message: string }> {
  const out: Array<{ field: string; message: string }> = [];
  const domains = domainsProblem(body.source, body.domains ?? []);
  if (domains) out.push({ field: 'domains', message: domains });
  if (body.source === 'acme' && !body.acme_directory_url) out.push({ field: 'acme_directory_url', message: 'required with source acme' });
  if (body.acme_directory_url && !body.acme_directory_url.startsWith('https://')) out.push({ field: 'acme_directory_url', message: 'must be an https:// URL (RFC 8555 §6.1)' });
  if (body.source === 'pem') {
    if (!body.certificate_pem) out.push({ field: 'certificate_pem', message: 'required with source pem' });
    if (!body.private_key_pem) out.push({ field: 'private_key_pem', message: 'required with source pem' });
  } else if (body.certificate_pem || body.private_key_pem) {
    out.push({ field: 'certificate_pem', message: 'only with source pem' });
  }
  return out;
}

/** Service errors as API errors: refused certificate 400, ACME 502. */
async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CertificateRejected) throw new ApiError('bad_request', err.message, { reason: err.code });
    if (err instanceof AcmeFailed) throw new ApiError('bad_gateway', err.message, { reason: 'acme_failed' });
    throw err;
  }
}

export async function tlsRoutes(base: FastifyInstance, { ctx }: { ctx: ApiContext }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const admin = { auth: 'admin' as const };
  const tags = ['system'];
  const service = (): TlsCertificates => {
    if (!ctx.tls) throw new ApiError('service_unavailable', 'The TLS certificate service is not running');
    return ctx.tls;
  };
  const status = async () => {
    const tls = service();
    const served = await run(() => tls.certificate());
    const s = tls.current;
    const due = tls.renewalDueAt(served.info);
    return {
      source: s.source, domains: s.domains,
      acme: s.acmeDirectoryUrl ? { directory_url: s.acmeDirectoryUrl, email: s.acmeEmail } : null,
      auto_renew: s.autoRenew, renew_before_days: s.renewBeforeDays,
      renewal_due_at: due ? due.toISOString() : null, last_renewal: tls.lastRenewal,
      certificate: certificateView(served, Date.now()),
      listeners: (ctx.sip?.transports.transports ?? []).filter((t) => t.protocol === 'tls' || t.protocol === 'wss')
        .map((t) => ({ protocol: t.protocol, address: t.local.address, port: t.local.port })),
    };
  };

  app.get('/system/tls/status', {
    config: admin,
    schema: { tags, summary: 'The certificate of the SIP TLS/WSS listeners, its source and renewal (admin)', response: { 200: TlsStatus, ...errorResponses(400, 401, 403, 503) } },
  }, status);

  app.put('/system/tls/config', {
    config: admin,
    schema: {
      tags, summary: 'Choose the certificate source: self-signed, an uploaded PEM pair, or ACME (admin)',
      description: 'The new certificate is obtained and checked before anything changes: an invalid PEM, a key of another certificate or an expired certificate is 400, an ACME failure 502, each with the reason; the certificate in use stays.',
      body: TlsConfigBody, response: { 200: TlsStatus, ...errorResponses(400, 401, 403, 502, 503) },
    },
  }, async (req) => {
    const problems = configProblems(req.body);
    if (problems.length > 0) throw validationError(problems);
    const b = req.body;
    await run(() => service().configure({
      source: b.source, domains: b.domains?.map((d) => d.toLowerCase()), acmeDirectoryUrl: b.acme_directory_url, acmeEmail: b.acme_email,
      autoRenew: b.auto_renew, renewBeforeDays: b.renew_before_days, certificatePem: b.certificate_pem, privateKeyPem: b.private_key_pem,
    }));
    return status();
  });

  app.post('/system/tls/renew', {
    config: admin,
    schema: { tags, summary: 'Renew now: a new ACME order or a new self-signed certificate (admin)', description: 'An uploaded or file certificate cannot be renewed here (400). ACME failure: 502, the certificate in use stays.', response: { 200: TlsStatus, ...errorResponses(400, 401, 403, 502, 503) } },
  }, async () => {
    await run(() => service().renew());
    return status();
  });

  app.post('/system/tls/reload', {
    config: admin,
    schema: { tags, summary: 'Read the certificate source again and present it to new TLS handshakes (admin)', description: 'Established TLS and WSS connections keep working. With STROWGER_SIP_TLS_CERT/KEY the files are re-read: replace them, then reload.', response: { 200: TlsStatus, ...errorResponses(400, 401, 403, 503) } },
  }, async () => {
    await run(() => service().reload());
    return status();
  });

  app.get('/system/tls/certificate', {
    config: admin,
    schema: { tags, summary: 'The certificate chain served, as PEM (public part only) (admin)', response: { 200: CertificatePem, ...errorResponses(400, 401, 403, 503) } },
  }, async () => {
    const tls = service();
    const served = await run(() => tls.certificate());
    return { source: tls.current.source, certificate_pem: served.cert, certificate: certificateView(served, Date.now()) };
  });
}
