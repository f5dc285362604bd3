/**
 * Mails a Record gateway's result to its `recipientMail`: the WAV attached, the transcript
 * (when asked for) in the body. Through the SMTP server of the system settings; a failed
 * attempt is tried again after 1 s, then 2 s, then the error is the caller's.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Db } from '../store/db.ts';
import type { SecretBox } from '../store/secret-box.ts';
import { getConfigValues } from '../store/system-config.ts';
import { smtpFromSettings } from '../integrations/smtp/smtp-transport.ts';

export interface RecordingMail {
  to: string;
  room: string;
  gwId: string;
  seconds: number;
  file: string;
  /** null: no transcript asked for; '' nothing recognised. */
  transcript: string | null;
  transcriptError: string | null;
}

export type RecordingMailer = (mail: RecordingMail) => Promise<void>;

const ATTEMPTS = 3;

export function recordingMailer(db: Db, box: SecretBox, sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))): RecordingMailer {
  return async (mail) => {
    const content = await readFile(mail.file);
    for (let attempt = 1; ; attempt++) {
      try {
        const { transport, from } = smtpFromSettings(await getConfigValues(db, box), 'gateway');
        try {
          await transport.sendMail({
            from, to: mail.to,
            subject: `Recording of room ${mail.room} (${mail.seconds} s)`,
            text: `The recording of room ${mail.room} (gateway ${mail.gwId}, ${mail.seconds} seconds, audio only) is attached.\n`
              + transcriptPart(mail),
            attachments: [{ filename: basename(mail.file), content, contentType: 'audio/wav' }],
          });
          return;
        } finally {
          transport.close();
        }
      } catch (err) {
        if (attempt >= ATTEMPTS) throw err;
        await sleep(1000 * 2 ** (attempt - 1));
      }
    }
  };
}

function transcriptPart(mail: RecordingMail): string {
  if (mail.transcript === null && mail.transcriptError === null) return '';
  if (mail.transcriptError !== null) return `\nTranscription: unavailable (${mail.transcriptError})\n`;
  return `\nTranscription:\n${mail.transcript || '(no words recognised)'}\n`;
}
