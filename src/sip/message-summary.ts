/**
 * The `application/simple-message-summary` body of the message-summary event package
 * (RFC 3842 §5.2), voice messages only:
 *
 *     Messages-Waiting: yes
 *     Message-Account: sip:alice@vmail.example.com
 *     Voice-Message: 2/8 (0/2)
 *
 * `Voice-Message: new/old (urgent-new/urgent-old)`; the urgent part is optional on the wire
 * (§5.2 ABNF: `msg-summary-line = message-context-class HCOLON newmsgs SLASH oldmsgs
 * [ LPAREN new-urgentmsgs SLASH old-urgentmsgs RPAREN ]`). We always write it, since some
 * phones parse only the full form.
 */

/** Event package name (RFC 3842 §4). */
export const MESSAGE_SUMMARY_EVENT = 'message-summary';
/** Body type of its NOTIFYs (RFC 3842 §5.2). */
export const MESSAGE_SUMMARY_CONTENT_TYPE = 'application/simple-message-summary';

export interface MessageCounts {
  new: number;
  old: number;
  urgentNew?: number;
  urgentOld?: number;
}

export interface MessageSummary {
  /** `Messages-Waiting`: true when there are new messages. */
  waiting: boolean;
  /** `Message-Account` URI, or null when omitted. */
  account: string | null;
  /** The `Voice-Message` line, or null when absent. */
  voice: Required<MessageCounts> | null;
}

/** The body for `counts` of `account` (waiting = at least one new message, RFC 3842 §5.2). */
export function formatMessageSummary(account: string, counts: MessageCounts): string {
  const line = `${counts.new}/${counts.old} (${counts.urgentNew ?? 0}/${counts.urgentOld ?? 0})`;
  return `Messages-Waiting: ${counts.new > 0 ? 'yes' : 'no'}\r\nMessage-Account: ${account}\r\nVoice-Message: ${line}\r\n`;
}

const VOICE_LINE = /^(\d+)\/(\d+)(?:\s*\((\d+)\/(\d+)\))?\s*$/;

/**
 * Reads a message-summary body (as a phone would). Header names are case-insensitive;
 * other message-context classes (fax, text…) are ignored.
 *
 * @throws Error when `Messages-Waiting` is missing or not yes/no, or `Voice-Message` is malformed.
 */
export function parseMessageSummary(body: string): MessageSummary {
  let waiting: boolean | null = null;
  let account: string | null = null;
  let voice: Required<MessageCounts> | null = null;
  for (const raw of body.split(/\r?\n/)) {
    const colon = raw.indexOf(':');
    if (colon < 0) continue;
    const name = raw.slice(0, colon).trim().toLowerCase();
    const value = raw.slice(colon + 1).trim();
    if (name === 'messages-waiting') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') throw new Error(`Messages-Waiting must be yes or no, got "${value}"`);
      waiting = v === 'yes';
    } else if (name === 'message-account') {
      account = value;
    } else if (name === 'voice-message') {
      const m = VOICE_LINE.exec(value);
      if (!m) throw new Error(`malformed Voice-Message "${value}"`);
      voice = { new: Number(m[1]), old: Number(m[2]), urgentNew: Number(m[3] ?? 0), urgentOld: Number(m[4] ?? 0) };
    }
  }
  if (waiting === null) throw new Error('no Messages-Waiting line');
  return { waiting, account, voice };
}
