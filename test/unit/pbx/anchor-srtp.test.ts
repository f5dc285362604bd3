/**
 * SDES negotiation of the anchored SDP (RFC 4568): each leg is its own SRTP session, keys never
 * travel from one leg to the other, the answer echoes the picked tag with our own key, and the
 * engine gets the keys of each leg (rx = the endpoint's, tx = ours).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseSdp, getAttributes } from '../../../src/sdp/index.ts';
import { AnchorError, anchorSdp, answerOffer, createLegMedia } from '../../../src/pbx/anchor-sdp.ts';
import { srtpOfReanswer, type SrtpPolicy } from '../../../src/pbx/anchor-srtp.ts';
import { FakeMedia } from './call-harness.ts';

const sdp = (m: string, attrs: string[]) => ['v=0', 'o=a 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', m, 'a=rtpmap:0 PCMU/8000', ...attrs, ''].join('\r\n');
const key80 = randomBytes(30);
const key32 = randomBytes(30);
const crypto = [`a=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:${key32.toString('base64')}`, `a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${key80.toString('base64')}`];

function legs(aPolicy: SrtpPolicy, bPolicy: SrtpPolicy, keysAllowed = true) {
  const a = createLegMedia({ id: 1, address: '127.0.0.1', rtpPort: 20000 });
  const b = createLegMedia({ id: 2, address: '127.0.0.1', rtpPort: 20002 });
  Object.assign(a.srtp, { policy: aPolicy, keysAllowed });
  Object.assign(b.srtp, { policy: bPolicy, keysAllowed });
  return [a, b] as const;
}

const isWarning305 = (err: unknown) => err instanceof AnchorError && err.warning === 305 && err.sipStatus === 488;

test('RTP/SAVP offer: our preferred offered suite, answered with its tag and our key; the callee gets plain RTP/AVP', async () => {
  const [a, b] = legs('optional', 'off');
  const media = new FakeMedia();
  const onwards = parseSdp(await anchorSdp(media, sdp('m=audio 4000 RTP/SAVP 0', crypto), 'offer', a, b)).media[0]!;
  assert.equal(onwards.proto, 'RTP/AVP');
  assert.deepEqual(getAttributes(onwards, 'crypto'), [], 'the caller\'s keys never go onwards');
  const keys = media.srtp.get(1)!;
  assert.equal(keys.suite, 'AES_CM_128_HMAC_SHA1_80');
  assert.ok(Buffer.from(keys.rxKey).equals(key80));
  assert.equal(media.srtp.has(2), false, 'plain leg: no engine call');

  const answer = parseSdp(await anchorSdp(media, sdp('m=audio 5000 RTP/AVP 0', []), 'answer', b, a)).media[0]!;
  assert.equal(answer.proto, 'RTP/SAVP');
  const lines = getAttributes(answer, 'crypto');
  assert.equal(lines.length, 1);
  const [tag, suite, inline] = lines[0]!.split(' ');
  assert.deepEqual([tag, suite], ['2', 'AES_CM_128_HMAC_SHA1_80']);
  assert.ok(Buffer.from(inline!.slice('inline:'.length), 'base64').equals(Buffer.from(keys.txKey)), 'the key we encrypt with');
  assert.ok(!Buffer.from(keys.txKey).equals(key80), 'a fresh key, not the caller\'s');

  // A re-INVITE repeating the offer keeps both keys (no new SRTP session, no engine call).
  const calls = media.srtp.size;
  const again = parseSdp(await answerOffer(media, sdp('m=audio 4000 RTP/SAVP 0', crypto), a, null)).media[0]!;
  assert.deepEqual(getAttributes(again, 'crypto'), lines);
  assert.equal(media.srtp.size, calls);
});

test('refusals: SAVP with SRTP off, SAVP over insecure signalling, no supported suite, plain offer from a required party', async () => {
  const offer = sdp('m=audio 4000 RTP/SAVP 0', crypto);
  await assert.rejects(anchorSdp(new FakeMedia(), offer, 'offer', ...legs('off', 'off')), isWarning305);
  await assert.rejects(anchorSdp(new FakeMedia(), offer, 'offer', ...legs('required', 'off', false)), isWarning305);
  await assert.rejects(anchorSdp(new FakeMedia(), sdp('m=audio 4000 RTP/SAVP 0', ['a=crypto:1 F8_128_HMAC_SHA1_80 inline:' + key80.toString('base64')]), 'offer', ...legs('required', 'off')), isWarning305);
  await assert.rejects(anchorSdp(new FakeMedia(), sdp('m=audio 4000 RTP/AVP 0', []), 'offer', ...legs('required', 'off')), isWarning305);
  // Optional: RTP/AVP with crypto over insecure signalling is answered plain (the keys are ignored).
  const [a, b] = legs('optional', 'off', false);
  const media = new FakeMedia();
  await anchorSdp(media, sdp('m=audio 4000 RTP/AVP 0', crypto), 'offer', a, b);
  const answer = parseSdp(await anchorSdp(media, sdp('m=audio 5000 RTP/AVP 0', []), 'answer', b, a)).media[0]!;
  assert.equal(answer.proto, 'RTP/AVP');
  assert.deepEqual(getAttributes(answer, 'crypto'), []);
  assert.equal(media.srtp.size, 0);
});

test('towards a callee: required offers RTP/SAVP with one key per suite, optional RTP/AVP with the same lines', async () => {
  for (const [policy, proto] of [['required', 'RTP/SAVP'], ['optional', 'RTP/AVP']] as const) {
    const [a, b] = legs('off', policy);
    const media = new FakeMedia();
    const offer = parseSdp(await anchorSdp(media, sdp('m=audio 4000 RTP/AVP 0', []), 'offer', a, b)).media[0]!;
    assert.equal(offer.proto, proto);
    const lines = getAttributes(offer, 'crypto').map((l) => l.split(' '));
    assert.deepEqual(lines.map((l) => `${l[0]} ${l[1]}`), ['1 AEAD_AES_128_GCM', '2 AES_CM_128_HMAC_SHA1_80', '3 AES_CM_128_HMAC_SHA1_32']);
    const ours = Buffer.from(lines[1]![2]!.slice(7), 'base64');
    const calleeKey = randomBytes(30);
    const answered = parseSdp(await anchorSdp(media, sdp(`m=audio 5000 ${proto} 0`, [`a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${calleeKey.toString('base64')}`]), 'answer', b, a)).media[0]!;
    assert.equal(answered.proto, 'RTP/AVP', 'the plain caller gets a plain answer');
    assert.deepEqual(getAttributes(answered, 'crypto'), []);
    const keys = media.srtp.get(2)!;
    assert.equal(keys.suite, 'AES_CM_128_HMAC_SHA1_80');
    assert.ok(Buffer.from(keys.rxKey).equals(calleeKey));
    assert.ok(Buffer.from(keys.txKey).equals(ours));
  }
  // A required callee answering without a key we offered is refused.
  const [a, b] = legs('off', 'required');
  const media = new FakeMedia();
  await anchorSdp(media, sdp('m=audio 4000 RTP/AVP 0', []), 'offer', a, b);
  await assert.rejects(anchorSdp(media, sdp('m=audio 5000 RTP/SAVP 0', []), 'answer', b, a), isWarning305);
  // A required callee over insecure signalling is not offered plain media.
  await assert.rejects(anchorSdp(new FakeMedia(), sdp('m=audio 4000 RTP/AVP 0', []), 'offer', ...legs('off', 'required', false)), isWarning305);
});

test('answer to a hold re-offer: a new key of the endpoint on our tag is taken, an unmatched answer keeps the keys', async () => {
  const [a, b] = legs('optional', 'off');
  const media = new FakeMedia();
  await anchorSdp(media, sdp('m=audio 4000 RTP/SAVP 0', crypto), 'offer', a, b);
  await anchorSdp(media, sdp('m=audio 5000 RTP/AVP 0', []), 'answer', b, a);
  const before = media.srtp.get(1)!;
  const fresh = randomBytes(30);
  const keys = srtpOfReanswer(a.srtp, parseSdp(sdp('m=audio 4000 RTP/SAVP 0', [`a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${fresh.toString('base64')}`])).media[0]!);
  assert.ok(keys && Buffer.from(keys.rxKey).equals(fresh) && Buffer.from(keys.txKey).equals(Buffer.from(before.txKey)));
  assert.equal(srtpOfReanswer(a.srtp, parseSdp(sdp('m=audio 4000 RTP/SAVP 0', [crypto[0]!])).media[0]!), undefined);
  assert.equal(srtpOfReanswer(b.srtp, parseSdp(sdp('m=audio 5000 RTP/AVP 0', [])).media[0]!), null);
});
