/**
 * The SMTP transport of the system settings (`smtp_host`, `smtp_port`, `smtp_secure`,
 * `smtp_user`, `smtp_password`, `smtp_from`), shared by every mail the node sends (voicemail,
 * gateway recordings). Close it after sending: one connection per mail pass.
 */
import nodemailer, { type Transporter } from 'nodemailer';

export interface SmtpSettings {
  transport: Transporter;
  /** The sender address (`smtp_from`, or `<fallbackUser>@<smtp_host>`). */
  from: string;
}

/** @throws Error when SMTP is not configured (no `smtp_host`). */
export function smtpFromSettings(cfg: Record<string, string>, fallbackUser: string): SmtpSettings {
  if (!cfg.smtp_host) throw new Error('SMTP is not configured (system setting smtp_host)');
  const port = cfg.smtp_port ? Number(cfg.smtp_port) : 587;
  const transport = nodemailer.createTransport({
    host: cfg.smtp_host, port, secure: cfg.smtp_secure === 'true',
    auth: cfg.smtp_user ? { user: cfg.smtp_user, pass: cfg.smtp_password ?? '' } : undefined,
    connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000,
  });
  return { transport, from: cfg.smtp_from ?? `Strowger <${fallbackUser}@${cfg.smtp_host}>` };
}
