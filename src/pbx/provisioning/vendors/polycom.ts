/** Poly/Polycom UC Software: one `<ALL>` element of parameter attributes (`<mac>-phone.cfg`). */
import type { Codec, PhoneAccount } from '../account.ts';
import type { VendorSpec } from '../vendor-spec.ts';
import { XML_DECLARATION, escapeXml } from '../xml.ts';

const CODEC_KEY: Record<Codec, string> = { PCMU: 'G711_Mu', PCMA: 'G711_A', G722: 'G722', opus: 'OPUS' };
const TRANSPORT = { udp: 'UDPOnly', tcp: 'TCPOnly', tls: 'TLS' } as const;

function render(a: PhoneAccount): string {
  const p: [string, string][] = [
    ['reg.1.address', `${a.username}@${a.domain}`],
    ['reg.1.auth.userId', a.username],
    ['reg.1.auth.password', a.password],
    ['reg.1.displayName', a.displayName],
    ['reg.1.label', a.displayName],
    ['reg.1.server.1.address', a.server],
    ['reg.1.server.1.port', String(a.port)],
    ['reg.1.server.1.transport', TRANSPORT[a.transport]],
    ['reg.1.server.1.expires', String(a.expires)],
    ['tone.dtmf.viaRtp', a.dtmf === 'info' ? '0' : '1'],
    ['tone.dtmf.rfc2833Control', a.dtmf === 'rfc4733' ? '1' : '0'],
    ['voIpProt.SIP.dtmfViaSignaling.rfc2976', a.dtmf === 'info' ? '1' : '0'],
    ['sec.srtp.enable', a.srtp === 'off' ? '0' : '1'],
    ['sec.srtp.offer', a.srtp === 'off' ? '0' : '1'],
    ['sec.srtp.require', a.srtp === 'required' ? '1' : '0'],
  ];
  // Preference 1 is the most preferred; 0 disables a codec.
  for (const c of ['PCMU', 'PCMA', 'G722', 'opus'] as const) p.push([`voice.codecPref.${CODEC_KEY[c]}`, String(a.codecs.indexOf(c) + 1)]);
  if (a.ntpServer) p.push(['tcpIpApp.sntp.address', a.ntpServer]);
  for (const [k, v] of Object.entries(a.settings)) p.push([k, v]);
  return [XML_DECLARATION, '<PHONE_CONFIG>', '  <ALL',
    ...p.map(([k, v]) => `    ${k}="${escapeXml(v)}"`), '  />', '</PHONE_CONFIG>', ''].join('\n');
}

export const polycom: VendorSpec = {
  id: 'polycom', name: 'Poly / Polycom', models: ['VVX', 'SoundPoint IP', 'Trio', 'Edge E'],
  format: 'xml', contentType: 'application/xml; charset=utf-8', fileName: '<mac>-phone.cfg',
  codecs: ['PCMU', 'PCMA', 'G722', 'opus'], settingKey: /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/, settingKeyHint: 'a dotted parameter such as up.backlight.idleIntensity',
  render,
};
