/** Yealink: `key = value` lines (`<mac>.cfg`, format version 1.0.0.1), account 1. */
import type { PhoneAccount } from '../account.ts';
import type { VendorSpec } from '../vendor-spec.ts';

const TRANSPORT = { udp: '0', tcp: '1', tls: '2' } as const;
const DTMF = { inband: '0', rfc4733: '1', info: '2' } as const;
const SRTP = { off: '0', optional: '1', required: '2' } as const;

function render(a: PhoneAccount): string {
  const l: [string, string][] = [
    ['account.1.enable', '1'],
    ['account.1.label', a.displayName],
    ['account.1.display_name', a.displayName],
    ['account.1.auth_name', a.username],
    ['account.1.user_name', a.username],
    ['account.1.password', a.password],
    ['account.1.sip_server.1.address', a.server],
    ['account.1.sip_server.1.port', String(a.port)],
    ['account.1.sip_server.1.transport_type', TRANSPORT[a.transport]],
    ['account.1.sip_server.1.expires', String(a.expires)],
    ['account.1.dtmf.type', DTMF[a.dtmf]],
    ['account.1.srtp_encryption', SRTP[a.srtp]],
  ];
  for (const c of ['PCMU', 'PCMA', 'G722', 'opus'] as const) {
    const at = a.codecs.indexOf(c);
    const name = c.toLowerCase();
    l.push([`account.1.codec.${name}.enable`, at >= 0 ? '1' : '0']);
    if (at >= 0) l.push([`account.1.codec.${name}.priority`, String(at + 1)]);
  }
  if (a.ntpServer) l.push(['local_time.ntp_server1', a.ntpServer]);
  if (a.timezone) l.push(['local_time.time_zone_name', a.timezone]);
  for (const [k, v] of Object.entries(a.settings)) l.push([k, v]);
  return ['#!version:1.0.0.1', ...l.map(([k, v]) => `${k} = ${v}`), ''].join('\n');
}

export const yealink: VendorSpec = {
  id: 'yealink', name: 'Yealink', models: ['T3x', 'T4x', 'T5x', 'CP9xx', 'W-series DECT'],
  format: 'cfg', contentType: 'text/plain; charset=utf-8', fileName: '<mac>.cfg',
  codecs: ['PCMU', 'PCMA', 'G722', 'opus'], settingKey: /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/, settingKeyHint: 'a dotted key such as phone_setting.backlight_time',
  render,
};
