/**
 * Voicemail rows as the transcriber sees them: messages still waiting for their text
 * (`transcription_state = 'pending'`, e.g. left by a restart in the middle of one).
 */
import type { Db } from './db.ts';
import type { VoicemailRow } from './schema.ts';

/** Messages whose transcription was started or asked for and not finished, oldest first. */
export async function pendingTranscriptions(db: Db): Promise<VoicemailRow[]> {
  return db.selectFrom('voicemails').selectAll().where('transcription_state', '=', 'pending').orderBy('id').execute();
}
