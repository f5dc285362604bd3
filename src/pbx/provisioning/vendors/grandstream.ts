/** Grandstream: XML of P-values (`cfg<mac>.xml`), account 1. */
import type { Codec, PhoneAccount } from '../account.ts';
import type { VendorSpec } from '../vendor-spec.ts';
import { XML_DECLARATION, xmlElement } from '../xml.ts';

const CODEC_VALUE: Record<Codec, string> = { PCMU: '0', PCMA: '8', G722: '9', opus: '123' };
const TRANSPORT = { udp: '0', tcp: '1', tls: '2' } as const;
const DTMF = { inband: '0', rfc4733: '1', info: '2' } as const;
const SRTP = { off: '0', optional: '1', required: '2' } as const;
/** P57…P62: codec choices 1 to 6. */
const CODEC_SLOTS = ['P57', 'P58', 'P59', 'P60', 'P61', 'P62'];

function render(a: PhoneAccount): string {
  const p: [string, string][] = [
    ['P271', '1'], // account active
    ['P270', a.displayName],
    ['P47', `${a.server}:${a.port}`],
    ['P35', a.username],
    ['P36', a.username],
    ['P34', a.password],
    ['P3', a.displayName],
    ['P130', TRANSPORT[a.transport]],
    ['P32', String(Math.max(1, Math.round(a.expires / 60)))], // minutes
    ['P73', DTMF[a.dtmf]],
    ['P183', SRTP[a.srtp]],
  ];
  a.codecs.slice(0, CODEC_SLOTS.length).forEach((c, i) => p.push([CODEC_SLOTS[i]!, CODEC_VALUE[c]]));
  if (a.ntpServer) p.push(['P30', a.ntpServer]);
  for (const [k, v] of Object.entries(a.settings)) p.push([k, v]);
  return [XML_DECLARATION, '<gs_provision version="1">', '  <config version="1">',
    ...p.map(([k, v]) => `    ${xmlElement(k, v)}`), '  </config>', '</gs_provision>', ''].join('\n');
}

export const grandstream: VendorSpec = {
  id: 'grandstream', name: 'Grandstream', models: ['GXP16xx', 'GXP21xx', 'GRP26xx', 'GXV33xx', 'HT8xx (ATA)'],
  format: 'xml', contentType: 'application/xml; charset=utf-8', fileName: 'cfg<mac>.xml',
  codecs: ['PCMU', 'PCMA', 'G722', 'opus'], settingKey: /^P\d{1,5}$/, settingKeyHint: 'a P-value such as P1362',
  render,
};
