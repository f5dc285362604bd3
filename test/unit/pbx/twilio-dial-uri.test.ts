import { test } from 'node:test';
import assert from 'node:assert/strict';
import { twilioDialUri } from '../../../src/pbx/twilio-dial-uri.ts';
import { dialSipTwiml } from '../../../src/integrations/twilio/webhook.ts';
import { loadConfig, ConfigError } from '../../../src/config.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CALL = 'CA' + '0'.repeat(32);

test('dial URI: DID at our domain, port only when not 5060, IPv6 in brackets, header values percent-encoded (RFC 3261 §19.1.1)', () => {
  assert.equal(twilioDialUri({ didNumber: '+15551234567', domain: 'pbx.example.com', sipPort: 5060, callSid: CALL }), `sip:+15551234567@pbx.example.com?X-Strowger-Call-Sid=${CALL}`);
  assert.equal(twilioDialUri({ didNumber: '+15551234567', domain: '2001:db8::1', sipPort: 5070, callSid: CALL }), `sip:+15551234567@[2001:db8::1]:5070?X-Strowger-Call-Sid=${CALL}`);
  const uri = twilioDialUri({ didNumber: '+1555', domain: 'd', sipPort: 5060, callSid: CALL, callerName: 'A&B <x>?y=z' });
  assert.equal(uri, `sip:+1555@d?X-Strowger-Call-Sid=${CALL}&X-Strowger-Caller-Name=A%26B%20%3Cx%3E%3Fy%3Dz`);
});

test('TwiML escapes what it is given: an element cannot be closed from inside the URI', () => {
  const xml = dialSipTwiml('sip:a@b?h=</Sip></Dial><Hangup/>&x="1"');
  assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Sip>sip:a@b?h=&lt;/Sip&gt;&lt;/Dial&gt;&lt;Hangup/&gt;&amp;x="1"</Sip></Dial></Response>');
});

test('config: STROWGER_PUBLIC_URL and STROWGER_TWILIO_API_BASE must be http(s) URLs without query', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strowger-cfg-'));
  const base = { STROWGER_DATA_DIR: dir, STROWGER_SECRET_KEY: 'a'.repeat(64) };
  const c = loadConfig({ ...base, STROWGER_PUBLIC_URL: 'https://pbx.example.com/', STROWGER_TWILIO_API_BASE: 'http://127.0.0.1:4010' });
  assert.deepEqual(c.twilio, { publicUrl: 'https://pbx.example.com', apiBase: 'http://127.0.0.1:4010', smsMaxAttempts: 5, smsRetryBaseMs: 5000 });
  assert.deepEqual(loadConfig(base).twilio, { publicUrl: undefined, apiBase: undefined, smsMaxAttempts: 5, smsRetryBaseMs: 5000 });
  for (const [name, value] of [['STROWGER_PUBLIC_URL', 'pbx.example.com'], ['STROWGER_PUBLIC_URL', 'ftp://x'], ['STROWGER_TWILIO_API_BASE', 'http://x/?a=1'], ['STROWGER_SMS_MAX_ATTEMPTS', '0']] as const) {
    assert.throws(() => loadConfig({ ...base, [name]: value }), (e: unknown) => e instanceof ConfigError && e.variable === name, `${name}=${value}`);
  }
});
