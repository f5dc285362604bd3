/**
 * Migrations by name; Kysely runs them in name order, so names start with the date.
 * A static map (not a folder scan) keeps start-up independent of the working directory.
 */
import * as m001 from './2026-11-24-001-initial.ts';
import * as m010 from './2026-11-24-010-registrations.ts';
import * as m024 from './2026-11-24-024-trunks.ts';
import * as m025 from './2026-11-24-025-cdrs.ts';
import * as m040 from './2026-11-24-040-moh-files.ts';
import * as m041 from './2026-11-25-040-device-digest-algorithm.ts';
import * as m140 from './2026-12-04-140-provisioning.ts';
import * as m130 from './2026-12-04-130-messages.ts';
import * as m131 from './2026-12-04-131-twilio-calls.ts';
import * as m132 from './2026-12-04-132-did-released.ts';
import * as m120 from './2026-12-04-120-trunk-dns-tls.ts';
import * as m100 from './2026-12-04-100-voicemails.ts';
import * as m101 from './2026-12-04-101-device-voicemail.ts';
import * as m110 from './2026-12-04-110-device-mwi-unsolicited.ts';
import * as m150 from './2026-12-04-150-device-srtp.ts';
import * as m160 from './2026-12-04-160-twilio-call-sid.ts';
import * as m240 from './2026-12-04-240-trunk-srtp.ts';
import * as m250 from './2026-12-04-250-zrtp-cache.ts';
import * as m230 from './2026-12-04-230-call-gateway.ts';

export const migrations = {
  '2026-11-24-001-initial': m001,
  '2026-11-24-010-registrations': m010,
  '2026-11-24-024-trunks': m024,
  '2026-11-24-025-cdrs': m025,
  '2026-11-24-040-moh-files': m040,
  '2026-11-25-040-device-digest-algorithm': m041,
  '2026-12-04-140-provisioning': m140,
  '2026-12-04-130-messages': m130,
  '2026-12-04-131-twilio-calls': m131,
  '2026-12-04-132-did-released': m132,
  '2026-12-04-120-trunk-dns-tls': m120,
  '2026-12-04-100-voicemails': m100,
  '2026-12-04-101-device-voicemail': m101,
  '2026-12-04-110-device-mwi-unsolicited': m110,
  '2026-12-04-150-device-srtp': m150,
  '2026-12-04-160-twilio-call-sid': m160,
  '2026-12-04-240-trunk-srtp': m240,
  '2026-12-04-250-zrtp-cache': m250,
  '2026-12-04-230-call-gateway': m230,
};
