/** A vendor-neutral JSON profile, for softphones and scripts that provision themselves. */
import type { PhoneAccount } from '../account.ts';
import type { VendorSpec } from '../vendor-spec.ts';

function render(a: PhoneAccount): string {
  return `${JSON.stringify({
    sip: {
      username: a.username, password: a.password, display_name: a.displayName, domain: a.domain,
      server: a.server, port: a.port, transport: a.transport, register_expires: a.expires,
    },
    codecs: a.codecs, dtmf_mode: a.dtmf, srtp: a.srtp, ntp_server: a.ntpServer, timezone: a.timezone, settings: a.settings,
  }, null, 2)}\n`;
}

export const generic: VendorSpec = {
  id: 'generic', name: 'Generic SIP (JSON)', models: ['any SIP UA'],
  format: 'json', contentType: 'application/json; charset=utf-8', fileName: '<username>.json',
  codecs: ['PCMU', 'PCMA', 'G722', 'opus'], settingKey: /^[A-Za-z][A-Za-z0-9_.-]*$/, settingKeyHint: 'a name such as ring_tone',
  render,
};
