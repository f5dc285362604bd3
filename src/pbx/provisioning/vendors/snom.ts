/** Snom: `<settings><phone-settings>` XML, identity 1. */
import type { PhoneAccount } from '../account.ts';
import type { VendorSpec } from '../vendor-spec.ts';
import { XML_DECLARATION, xmlElement } from '../xml.ts';

const ONE = 'idx="1" perm=""';
const PERM = 'perm=""';

function render(a: PhoneAccount): string {
  const e: string[] = [
    xmlElement('user_active', 'on', ONE),
    xmlElement('user_realname', a.displayName, ONE),
    xmlElement('user_name', a.username, ONE),
    xmlElement('user_pass', a.password, ONE),
    xmlElement('user_host', `${a.server}:${a.port};transport=${a.transport}`, ONE),
    xmlElement('user_expiry', String(a.expires), ONE),
    xmlElement('user_srtp', a.srtp === 'off' ? 'off' : 'on', ONE),
    xmlElement('user_savp', a.srtp === 'required' ? 'mandatory' : a.srtp === 'optional' ? 'optional' : 'off', ONE),
    xmlElement('user_dtmf_info', a.dtmf === 'info' ? 'sip_info_only' : 'off', ONE),
    xmlElement('codec_priority_list', [...a.codecs.map((c) => c.toLowerCase()), 'telephone-event'].join(','), ONE),
  ];
  if (a.ntpServer) e.push(xmlElement('ntp_server', a.ntpServer, PERM));
  if (a.timezone) e.push(xmlElement('timezone', a.timezone, PERM));
  for (const [k, v] of Object.entries(a.settings)) e.push(xmlElement(k, v, PERM));
  return [XML_DECLARATION, '<settings>', '  <phone-settings>', ...e.map((x) => `    ${x}`), '  </phone-settings>', '</settings>', ''].join('\n');
}

export const snom: VendorSpec = {
  id: 'snom', name: 'Snom', models: ['D1xx', 'D3xx', 'D7xx', 'D8xx', 'M-series DECT'],
  format: 'xml', contentType: 'application/xml; charset=utf-8', fileName: 'snom<model>-<mac>.xml',
  codecs: ['PCMU', 'PCMA', 'G722', 'opus'], settingKey: /^[a-z][a-z0-9_]*$/, settingKeyHint: 'a setting name such as language',
  render,
};
