/** Fanvil: the `<<VOIP CONFIG FILE>>` text format (`<mac>.cfg`), SIP line 1. */
import type { Codec, PhoneAccount } from '../account.ts';
import type { VendorSpec } from '../vendor-spec.ts';

const TRANSPORT = { udp: '0', tcp: '1', tls: '2' } as const;
const DTMF = { inband: '0', rfc4733: '1', info: '2' } as const;
const SRTP = { off: '0', optional: '1', required: '2' } as const;
const CODEC_NAME: Record<Codec, string> = { PCMU: 'G711U', PCMA: 'G711A', G722: 'G722', opus: 'OPUS' };

/** Fanvil aligns names in a column before the colon; the phone trims them. */
const line = (k: string, v: string) => `${k.padEnd(24)}:${v}`;

function render(a: PhoneAccount): string {
  const sip = [
    line('SIP1 Phone Number', a.username),
    line('SIP1 Display Name', a.displayName),
    line('SIP1 Register Addr', a.server),
    line('SIP1 Register Port', String(a.port)),
    line('SIP1 Register User', a.username),
    line('SIP1 Register Pswd', a.password),
    line('SIP1 Register TTL', String(a.expires)),
    line('SIP1 Enable Reg', '1'),
    line('SIP1 Transport Protocol', TRANSPORT[a.transport]),
    line('SIP1 DTMF Mode', DTMF[a.dtmf]),
    line('SIP1 Enable SRTP', SRTP[a.srtp]),
    line('SIP1 Codecs', a.codecs.map((c) => CODEC_NAME[c]).join(',')),
    ...Object.entries(a.settings).map(([k, v]) => line(k, v)),
  ];
  const time = a.ntpServer ? ['<TIME CONFIG MODULE>', line('NTP Server1', a.ntpServer)] : [];
  return ['<<VOIP CONFIG FILE>>Version:2.0000000000', '<SIP CONFIG MODULE>', ...sip, ...time, '<<END OF FILE>>', ''].join('\n');
}

export const fanvil: VendorSpec = {
  id: 'fanvil', name: 'Fanvil', models: ['X series', 'V series', 'H series', 'i series (door phones)'],
  format: 'cfg', contentType: 'text/plain; charset=utf-8', fileName: '<mac>.cfg',
  codecs: ['PCMU', 'PCMA', 'G722', 'opus'], settingKey: /^SIP1 [A-Za-z][A-Za-z0-9 ]*$/, settingKeyHint: 'a SIP line 1 key such as "SIP1 Enable Hotline"',
  render,
};
