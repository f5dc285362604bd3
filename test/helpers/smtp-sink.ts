/**
 * A local SMTP server (`smtp-server`, the real wire protocol) that keeps what it receives, for
 * tests of the mail paths. `refuse` decides per message whether to answer a transient 451
 * instead (a retry path under test).
 */
import { SMTPServer } from 'smtp-server';
import { getFreePort } from './sipp.ts';

export interface ReceivedMail { to: string[]; raw: string }

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  /** Resolves with the first mail to `to` (at once when it came already). */
  next(to: string): Promise<ReceivedMail>;
  close(): Promise<void>;
}

export async function startSmtpSink(refuse: () => boolean = () => false): Promise<SmtpSink> {
  const mails: ReceivedMail[] = [];
  const waiters: Array<{ to: string; resolve: (m: ReceivedMail) => void }> = [];
  const port = await getFreePort('tcp');
  const smtp = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        if (refuse()) { cb(Object.assign(new Error('try again later'), { responseCode: 451 })); return; }
        const mail = { to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') };
        mails.push(mail);
        for (const w of waiters.splice(0)) {
          if (mail.to.includes(w.to)) w.resolve(mail);
          else waiters.push(w);
        }
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    mails,
    next: (to) => new Promise((resolve) => {
      const got = mails.find((m) => m.to.includes(to));
      if (got) resolve(got);
      else waiters.push({ to, resolve });
    }),
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}
