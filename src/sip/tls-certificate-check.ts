/**
 * What a certificate says and whether a certificate/key pair can be served: the PEM parses,
 * the key is the certificate's, and the certificate is valid now. Used before a pair replaces
 * the one our TLS and WSS listeners present, so a bad upload never takes the listeners down.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';

export interface CertificateInfo {
  subject: string;
  issuer: string;
  /** DNS names and IP addresses of subjectAltName, in certificate order. */
  sans: string[];
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
  serialNumber: string;
  selfSigned: boolean;
}

/** Why a pair was refused: a stable code and a sentence for the API. */
export class CertificateRejected extends Error {
  constructor(readonly code: 'invalid_certificate' | 'invalid_key' | 'key_mismatch' | 'expired' | 'not_yet_valid', message: string) {
    super(message);
    this.name = 'CertificateRejected';
  }
}

/** The leaf (first) certificate of a PEM chain, parsed; throws CertificateRejected. */
export function parseLeaf(pem: string): X509Certificate {
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new CertificateRejected('invalid_certificate', 'No PEM certificate found (expected -----BEGIN CERTIFICATE-----)');
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new CertificateRejected('invalid_certificate', `The certificate does not parse: ${(err as Error).message}`);
  }
}

/**
 * Checks that `cert` (a PEM chain, leaf first) and `key` can be served at `now`; returns the
 * leaf's description or throws CertificateRejected.
 *
 * @example
 * ```ts
 * const info = checkCertificatePair(certPem, keyPem, new Date()); // throws on a key of another certificate
 * ```
 */
export function checkCertificatePair(cert: string, key: string, now: Date): CertificateInfo {
  const leaf = parseLeaf(cert);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new CertificateRejected('invalid_key', `The private key does not parse (PEM, unencrypted): ${(err as Error).message}`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new CertificateRejected('key_mismatch', 'The private key does not belong to the certificate');
  const info = describeCertificate(leaf);
  if (Date.parse(info.notAfter) <= now.getTime()) throw new CertificateRejected('expired', `The certificate expired on ${info.notAfter}`);
  if (Date.parse(info.notBefore) > now.getTime()) throw new CertificateRejected('not_yet_valid', `The certificate is valid only from ${info.notBefore}`);
  return info;
}

export function describeCertificate(x509: X509Certificate): CertificateInfo {
  return {
    subject: x509.subject.replace(/\n/g, ', '),
    issuer: x509.issuer.replace(/\n/g, ', '),
    sans: parseSubjectAltName(x509.subjectAltName),
    notBefore: new Date(x509.validFrom).toISOString(),
    notAfter: new Date(x509.validTo).toISOString(),
    fingerprint256: x509.fingerprint256,
    serialNumber: x509.serialNumber,
    selfSigned: x509.issuer === x509.subject && x509.verify(x509.publicKey),
  };
}

/** Node's "DNS:a, IP Address:1.2.3.4" → ['a', '1.2.3.4']. */
function parseSubjectAltName(san: string | undefined): string[] {
  if (!san) return [];
  return san.split(', ').map((entry) => entry.replace(/^(DNS|IP Address):/, '')).filter((v) => v !== '');
}
