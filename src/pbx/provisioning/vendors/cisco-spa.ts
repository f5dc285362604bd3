/** Cisco SPA (Small Business): `<flat-profile>` XML (`spa<mac>.xml`), line 1. */
import type { Codec, PhoneAccount } from '../account.ts';
import type { VendorSpec } from '../vendor-spec.ts';
import { XML_DECLARATION, xmlElement } from '../xml.ts';

const CODEC_NAME: Partial<Record<Codec, string>> = { PCMU: 'G711u', PCMA: 'G711a', G722: 'G722' };
const TRANSPORT = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' } as const;
const DTMF = { inband: 'InBand', rfc4733: 'AVT', info: 'INFO' } as const;
const PREFERENCE = ['Preferred_Codec_1_', 'Second_Preferred_Codec_1_', 'Third_Preferred_Codec_1_'];

function render(a: PhoneAccount): string {
  const p: [string, string][] = [
    ['Line_Enable_1_', 'Yes'],
    ['Display_Name_1_', a.displayName],
    ['User_ID_1_', a.username],
    ['Password_1_', a.password],
    ['Use_Auth_ID_1_', 'Yes'],
    ['Auth_ID_1_', a.username],
    ['Proxy_1_', `${a.server}:${a.port}`],
    ['Register_1_', 'Yes'],
    ['Register_Expires_1_', String(a.expires)],
    ['SIP_Transport_1_', TRANSPORT[a.transport]],
    ['DTMF_Tx_Method_1_', DTMF[a.dtmf]],
  ];
  a.codecs.slice(0, PREFERENCE.length).forEach((c, i) => p.push([PREFERENCE[i]!, CODEC_NAME[c]!]));
  if (a.ntpServer) p.push(['Primary_NTP_Server', a.ntpServer]);
  for (const [k, v] of Object.entries(a.settings)) p.push([k, v]);
  return [XML_DECLARATION, '<flat-profile>', ...p.map(([k, v]) => `  ${xmlElement(k, v)}`), '</flat-profile>', ''].join('\n');
}

export const ciscoSpa: VendorSpec = {
  id: 'cisco', name: 'Cisco SPA (Small Business)', models: ['SPA30x', 'SPA50x', 'SPA51x', 'SPA525G', 'SPA112/122 (ATA)'],
  format: 'xml', contentType: 'application/xml; charset=utf-8', fileName: 'spa<mac>.xml',
  codecs: ['PCMU', 'PCMA', 'G722'], settingKey: /^[A-Z][A-Za-z0-9_]*$/, settingKeyHint: 'a flat-profile element such as Dial_Plan_1_',
  render,
};
