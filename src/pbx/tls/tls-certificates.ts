/**
 * The certificate our SIP TLS and WSS listeners present, from one of four sources (see
 * tls-settings.ts). Every change — an upload, an ACME order, a renewal, a reload — is checked
 * first (tls-certificate-check.ts) and only then stored and handed to the listeners, which
 * present it to new handshakes while established connections keep theirs. A failure leaves
 * the certificate in use as it was. Operations run one at a time.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Db } from '../../store/db.ts';
import type { SecretBox } from '../../store/secret-box.ts';
import { loadAcmeAccountKey, loadTlsState, saveAcmeAccountKey, saveTlsState } from '../../store/tls-state.ts';
import { checkCertificatePair, CertificateRejected, type CertificateInfo } from '../../sip/tls-certificate-check.ts';
import { loadOrCreateSelfSignedCert } from '../../sip/tls-self-signed.ts';
import { AcmeChallenges, issueCertificate } from './tls-acme.ts';
import { DEFAULT_RENEW_BEFORE_DAYS, parseSettings, type TlsSettings, type TlsSource } from './tls-settings.ts';

const DAY_MS = 86_400_000;

export interface TlsCertificatesOptions {
  db: Db;
  box: SecretBox;
  logger: Logger;
  dataDir: string;
  /** STROWGER_DOMAIN and the addresses a self-signed certificate names. */
  domain: string;
  publicIp?: string;
  /** STROWGER_SIP_TLS_CERT/KEY: the `file` source when nothing was configured through the API. */
  certFile?: string;
  keyFile?: string;
  /** PEM of extra CAs for the ACME directory's HTTPS (STROWGER_ACME_CA_FILE). */
  acmeDirectoryCa?: string;
  /** How often the renewal timer looks at the expiry; 0 = never. */
  renewCheckMs: number;
  now?: () => Date;
}

export interface ServedCertificate {
  cert: string;
  key: string;
  info: CertificateInfo;
}

export interface RenewalOutcome {
  at: string;
  ok: boolean;
  error: string | null;
}

/** Requested settings; the certificate and key only with source `pem`. */
export interface TlsConfigInput {
  source: 'self-signed' | 'pem' | 'acme';
  domains?: string[];
  acmeDirectoryUrl?: string | null;
  acmeEmail?: string | null;
  autoRenew?: boolean;
  renewBeforeDays?: number;
  certificatePem?: string;
  privateKeyPem?: string;
}

export class TlsCertificates {
  readonly challenges = new AcmeChallenges();
  lastRenewal: RenewalOutcome | null = null;
  private settings: TlsSettings;
  private served: ServedCertificate | null = null;
  private loading: Promise<ServedCertificate> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => Date;
  /** Hands a new pair to the listeners; returns how many took it (set once SIP runs). */
  private apply: (pair: { cert: string; key: string }) => number = () => 0;

  constructor(private readonly opts: TlsCertificatesOptions) {
    this.now = opts.now ?? (() => new Date());
    this.settings = this.defaults();
  }

  get current(): TlsSettings {
    return this.settings;
  }

  /** The pair served now, loading it on first use (start-up of the TLS listeners). */
  certificate(): Promise<ServedCertificate> {
    if (this.served) return Promise.resolve(this.served);
    this.loading ??= this.loadStored().finally(() => { this.loading = null; });
    return this.loading;
  }

  /** Connects the listeners and starts the renewal timer. */
  attach(apply: (pair: { cert: string; key: string }) => number): void {
    this.apply = apply;
    if (this.opts.renewCheckMs > 0 && this.timer === null) {
      this.timer = setInterval(() => void this.renewIfDue(), this.opts.renewCheckMs);
      this.timer.unref();
    }
  }

  /** PUT /api/system/tls/config: obtains and checks the new certificate, then stores and serves it. */
  configure(input: TlsConfigInput): Promise<ServedCertificate> {
    return this.serial(async () => {
      const next: TlsSettings = {
        source: input.source,
        domains: input.domains ?? (input.source === this.settings.source ? this.settings.domains : []),
        acmeDirectoryUrl: input.acmeDirectoryUrl ?? (input.source === 'acme' ? this.settings.acmeDirectoryUrl : null),
        acmeEmail: input.acmeEmail ?? (input.source === 'acme' ? this.settings.acmeEmail : null),
        autoRenew: input.autoRenew ?? this.settings.autoRenew,
        renewBeforeDays: input.renewBeforeDays ?? this.settings.renewBeforeDays,
      };
      const pair = input.source === 'pem'
        ? { cert: input.certificatePem!, key: input.privateKeyPem! }
        : await this.obtain(next, true);
      return this.install(next, pair);
    });
  }

  /** POST /api/system/tls/renew: a new certificate from the current source (acme, self-signed). */
  renew(): Promise<ServedCertificate> {
    return this.serial(() => this.renewNow());
  }

  /** POST /api/system/tls/reload: reads the source again (files on disk, the stored pair) and serves it. */
  reload(): Promise<ServedCertificate> {
    return this.serial(() => this.loadStored());
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** When the renewal timer will renew: renewBeforeDays before not-after. */
  renewalDueAt(info: CertificateInfo): Date | null {
    if (!this.renewable()) return null;
    return new Date(Date.parse(info.notAfter) - this.settings.renewBeforeDays * DAY_MS);
  }

  private renewable(): boolean {
    return this.settings.autoRenew && (this.settings.source === 'acme' || this.settings.source === 'self-signed');
  }

  private async renewIfDue(): Promise<void> {
    const served = this.served;
    if (!served || !this.renewable()) return;
    const due = this.renewalDueAt(served.info);
    if (due === null || this.now().getTime() < due.getTime()) return;
    await this.serial(() => this.renewNow()).catch((err) => this.opts.logger.error({ err }, 'TLS certificate renewal failed; the current one stays'));
  }

  private async renewNow(): Promise<ServedCertificate> {
    const at = this.now().toISOString();
    try {
      if (this.settings.source === 'pem' || this.settings.source === 'file') {
        throw new CertificateRejected('invalid_certificate', `A ${this.settings.source === 'pem' ? 'uploaded' : 'file'} certificate cannot be renewed here: ${this.settings.source === 'pem' ? 'upload a new one' : 'replace the files and reload'}`);
      }
      const served = await this.install(this.settings, await this.obtain(this.settings, true));
      this.lastRenewal = { at, ok: true, error: null };
      return served;
    } catch (err) {
      this.lastRenewal = { at, ok: false, error: (err as Error).message };
      throw err;
    }
  }

  /** A fresh pair from an acme or self-signed source (`fresh`: even if the stored one is still good). */
  private async obtain(s: TlsSettings, fresh: boolean): Promise<{ cert: string; key: string }> {
    if (s.source === 'acme') {
      const issued = await issueCertificate({
        directoryUrl: s.acmeDirectoryUrl!, email: s.acmeEmail ?? undefined, domains: s.domains,
        accountKey: await loadAcmeAccountKey(this.opts.db, this.opts.box), directoryCa: this.opts.acmeDirectoryCa,
      }, this.challenges);
      await saveAcmeAccountKey(this.opts.db, this.opts.box, issued.accountKey);
      return issued;
    }
    const names = s.domains.length > 0 ? s.domains : [this.opts.domain];
    const pair = await loadOrCreateSelfSignedCert({
      dir: this.opts.dataDir, commonName: names[0], now: this.now,
      altNames: [...names, '127.0.0.1', '::1', ...(this.opts.publicIp ? [this.opts.publicIp] : [])],
      // renewBeforeDays beyond any validity forces a new pair.
      renewBeforeDays: fresh ? 100_000 : s.renewBeforeDays,
    });
    return pair;
  }

  /** Checks, stores and serves a pair; on any failure nothing changed. */
  private async install(s: TlsSettings, pair: { cert: string; key: string }): Promise<ServedCertificate> {
    const info = checkCertificatePair(pair.cert, pair.key, this.now());
    const inDb = s.source === 'pem' || s.source === 'acme';
    await saveTlsState(this.opts.db, this.opts.box, { settings: JSON.stringify(s), certificate: inDb ? pair.cert : null, privateKey: inDb ? pair.key : null });
    this.settings = s;
    return this.serve(pair, info);
  }

  private serve(pair: { cert: string; key: string }, info: CertificateInfo): ServedCertificate {
    this.served = { cert: pair.cert, key: pair.key, info };
    const listeners = this.apply(pair);
    this.opts.logger.info({ source: this.settings.source, subject: info.subject, notAfter: info.notAfter, listeners }, 'TLS certificate in use');
    return this.served;
  }

  /** The stored pair of the configured source (start-up and reload). */
  private async loadStored(): Promise<ServedCertificate> {
    const stored = await loadTlsState(this.opts.db, this.opts.box);
    const s = stored ? parseSettings(stored.settings, this.defaults()) : this.defaults();
    let pair: { cert: string; key: string };
    if ((s.source === 'pem' || s.source === 'acme') && stored?.certificate && stored.privateKey) {
      pair = { cert: stored.certificate, key: stored.privateKey };
    } else if (s.source === 'file') {
      pair = await this.readFiles();
    } else {
      pair = await this.obtain({ ...s, source: 'self-signed' }, false);
    }
    const info = checkCertificatePair(pair.cert, pair.key, this.now());
    this.settings = s;
    return this.serve(pair, info);
  }

  private async readFiles(): Promise<{ cert: string; key: string }> {
    try {
      return { cert: await readFile(this.opts.certFile!, 'utf8'), key: await readFile(this.opts.keyFile!, 'utf8') };
    } catch (err) {
      throw new CertificateRejected('invalid_certificate', `Cannot read STROWGER_SIP_TLS_CERT/KEY: ${(err as Error).message}`);
    }
  }

  private defaults(): TlsSettings {
    const source: TlsSource = this.opts.certFile && this.opts.keyFile ? 'file' : 'self-signed';
    return { source, domains: [], acmeDirectoryUrl: null, acmeEmail: null, autoRenew: true, renewBeforeDays: DEFAULT_RENEW_BEFORE_DAYS };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}
