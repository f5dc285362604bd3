/** How Twilio trouble shows in `/api` answers (DID sync, message sync and send). */
import { ApiError } from '../shared/errors.ts';
import { TwilioRestError } from '../../integrations/twilio/rest-client.ts';

export const twilioNotConfigured = () =>
  new ApiError('conflict', 'Twilio is not configured: set twilio_account_sid and twilio_auth_token in /api/system/config', { reason: 'twilio_not_configured' });

/** Runs a Twilio REST call; its failure becomes `502 bad_gateway` with Twilio's status and code. */
export async function viaTwilio<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof TwilioRestError)) throw err;
    throw new ApiError('bad_gateway', `Twilio: ${err.message}`, { twilio_status: err.status, twilio_code: err.code });
  }
}
