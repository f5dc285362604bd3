/**
 * The anchoring function's codec policy: offer onwards = offerer's codecs first, then what we
 * can transcode; answer with an offered codec = pass-through, otherwise transcode on the
 * offerer's first supported codec; ptime, rtcp-mux and direction travel; 488 + Warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSdp, codecs } from '../../../src/sdp/index.ts';
import { AnchorError, anchorSdp, answerOffer, createLegMedia } from '../../../src/pbx/anchor-sdp.ts';
import { FakeMedia } from './call-harness.ts';

const offerSdp = (m: string, attrs: string[]) => ['v=0', 'o=a 1 1 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', m, ...attrs, ''].join('\r\n');
const legs = () => [createLegMedia({ id: 1, address: '127.0.0.1', rtpPort: 20000 }), createLegMedia({ id: 2, address: '127.0.0.1', rtpPort: 20002 })] as const;

test('offer: the offerer codecs first (its payload types), then PCMA, G722, opus/48000/2 and telephone-event per clock rate', async () => {
  const [a, b] = legs();
  const out = parseSdp(await anchorSdp(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 0 101', ['a=rtpmap:0 PCMU/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=ptime:30', 'a=rtcp-mux', 'a=sendonly']), 'offer', a, b));
  const list = codecs(out.media[0]).map((c) => `${c.pt} ${c.name}/${c.clockRate}/${c.channels}`);
  assert.deepEqual(list, ['0 PCMU/8000/1', '101 telephone-event/8000/1', '8 PCMA/8000/1', '9 G722/8000/1', '96 opus/48000/2', '97 telephone-event/48000/1']);
  const names = out.media[0].attributes.map((x) => x.name);
  for (const kept of ['ptime', 'rtcp-mux', 'sendonly']) assert.ok(names.includes(kept), kept);
  assert.equal(out.media[0].port, 20002);
  assert.equal(out.connection?.address, '127.0.0.1');
});

test('answer with a codec the offerer offered: pass-through, codecs only we added are dropped', async () => {
  const [a, b] = legs();
  await anchorSdp(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 8 0 101', ['a=rtpmap:101 telephone-event/8000']), 'offer', a, b);
  const answer = parseSdp(await anchorSdp(new FakeMedia(), offerSdp('m=audio 6000 RTP/AVP 0 96 101', ['a=rtpmap:96 opus/48000/2', 'a=rtpmap:101 telephone-event/8000']), 'answer', b, a));
  assert.deepEqual(answer.media[0].formats, ['0', '101']);
  assert.deepEqual([a.codec?.name, a.codec?.pt, a.codec?.telephoneEventPt], ['PCMU', 0, 101]);
  assert.deepEqual([b.codec?.name, b.codec?.pt], ['PCMU', 0]);
});

test('answer with a codec only we added: transcode, the offerer leg keeps its first supported codec', async () => {
  const [a, b] = legs();
  await anchorSdp(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 18 0 101', ['a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16']), 'offer', a, b);
  const media = new FakeMedia();
  const answer = parseSdp(await anchorSdp(media, offerSdp('m=audio 6000 RTP/AVP 96', ['a=rtpmap:96 opus/48000/2', 'a=ptime:20']), 'answer', b, a));
  assert.deepEqual(answer.media[0].formats, ['0', '101'], 'the caller is answered with its PCMU (and its telephone-event)');
  assert.deepEqual([b.codec?.name, b.codec?.clockRate, b.codec?.channels, b.codec?.ptime], ['opus', 48000, 2, 20]);
  assert.deepEqual([a.codec?.name, a.codec?.pt, a.codec?.telephoneEventPt], ['PCMU', 0, 101]);
  assert.deepEqual(media.remotes.get(2), { address: '192.0.2.10', rtpPort: 6000 });
  assert.equal(answer.media[0].port, 20000);
});

test('offers we cannot carry: 305 for no decodable codec, 304 for no audio stream', async () => {
  const [a, b] = legs();
  await assert.rejects(anchorSdp(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 18', ['a=rtpmap:18 G729/8000']), 'offer', a, b), (e) => e instanceof AnchorError && e.warning === 305);
  await assert.rejects(anchorSdp(new FakeMedia(), offerSdp('m=video 4000 RTP/AVP 96', ['a=rtpmap:96 H264/90000']), 'offer', a, b), (e) => e instanceof AnchorError && e.warning === 304 && e.header('h') === '304 h "Media type not available"');
});

test('answerOffer (a leg joining a bridge, Replaces): the preferred codec when offered, else the offerer\'s first we support; direction mirrored', async () => {
  const [leg] = legs();
  const media = new FakeMedia();
  const offer = offerSdp('m=audio 4000 RTP/AVP 8 0 101', ['a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16', 'a=sendonly']);
  const answer = parseSdp(await answerOffer(media, offer, leg, { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 }));
  assert.deepEqual(answer.media[0].formats, ['0', '101'], 'PCMU (the other party\'s codec: relay) and telephone-event');
  assert.ok(answer.media[0].attributes.some((x) => x.name === 'recvonly'), 'sendonly offer answered recvonly');
  assert.deepEqual([answer.media[0].port, answer.connection?.address], [20000, '127.0.0.1']);
  assert.deepEqual([leg.codec?.name, leg.codec?.pt, leg.codec?.telephoneEventPt], ['PCMU', 0, 101]);
  assert.deepEqual(media.remotes.get(1), { address: '192.0.2.10', rtpPort: 4000 });
  const [other] = legs();
  const transcoded = parseSdp(await answerOffer(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 18 8', ['a=rtpmap:18 G729/8000']), other, { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 }));
  assert.deepEqual(transcoded.media[0].formats, ['8'], 'PCMA, the first offered codec we can decode: the bridge transcodes');
  await assert.rejects(answerOffer(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 18', ['a=rtpmap:18 G729/8000']), other, null), (e) => e instanceof AnchorError && e.warning === 305);
});

test('local answer (voicemail): the offerer\'s first codec we decode and its telephone-event, at our endpoint; the leg is set', async () => {
  const [a] = legs();
  const media = new FakeMedia();
  const answer = parseSdp(await answerOffer(media, offerSdp('m=audio 4000 RTP/AVP 18 8 0 101', ['a=rtpmap:18 G729/8000', 'a=rtpmap:101 telephone-event/8000', 'a=fmtp:101 0-16']), a, null));
  assert.deepEqual(answer.media[0].formats, ['8', '101']);
  assert.equal(answer.media[0].port, 20000);
  assert.equal(answer.connection?.address, '127.0.0.1');
  assert.deepEqual([a.codec?.name, a.codec?.pt, a.codec?.telephoneEventPt], ['PCMA', 8, 101]);
  assert.deepEqual(media.remotes.get(1), { address: '192.0.2.10', rtpPort: 4000 });
  const plain = parseSdp(await answerOffer(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 0', []), legs()[0], null));
  assert.deepEqual(plain.media[0].formats, ['0'], 'no telephone-event offered, none answered');
  await assert.rejects(answerOffer(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 18', ['a=rtpmap:18 G729/8000']), legs()[0], null), (e) => e instanceof AnchorError && e.warning === 305);
  await assert.rejects(answerOffer(new FakeMedia(), offerSdp('m=video 4000 RTP/AVP 96', ['a=rtpmap:96 H264/90000']), legs()[0], null), (e) => e instanceof AnchorError && e.warning === 304);
});

/** The fmtp of payload type `pt` in an SDP, or null. */
const fmtpOf = (sdp: string, pt: number): string | null => codecs(parseSdp(sdp).media[0]).find((c) => c.pt === pt)?.fmtp ?? null;
const NB = 'maxplaybackrate=8000;sprop-maxcapturerate=8000';
const OPUS_OFFER = offerSdp('m=audio 4000 RTP/AVP 111 101', ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 useinbandfec=1', 'a=rtpmap:101 telephone-event/48000', 'a=fmtp:101 0-16']);

test('Opus offerer ↔ PCMU answerer: the answer to the Opus leg asks for narrowband (RFC 7587 §6.1); its encoder reads the peer\'s own fmtp', async () => {
  const [a, b] = legs();
  await anchorSdp(new FakeMedia(), OPUS_OFFER, 'offer', a, b);
  const answer = await anchorSdp(new FakeMedia(), offerSdp('m=audio 6000 RTP/AVP 0', ['a=rtpmap:0 PCMU/8000']), 'answer', b, a);
  assert.equal(fmtpOf(answer, 111), `useinbandfec=1;${NB}`);
  assert.deepEqual([a.codec?.name, a.codec?.fmtp, b.codec?.name], ['opus', 'useinbandfec=1', 'PCMU']);
});

test('PCMU offerer: the Opus we add asks for narrowband, and the Opus answerer\'s maxplaybackrate reaches its leg codec', async () => {
  const [a, b] = legs();
  const offer = await anchorSdp(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 0 8', []), 'offer', a, b);
  assert.equal(fmtpOf(offer, 96), NB);
  await anchorSdp(new FakeMedia(), offerSdp('m=audio 6000 RTP/AVP 96', ['a=rtpmap:96 opus/48000/2', 'a=fmtp:96 maxplaybackrate=8000;useinbandfec=1']), 'answer', b, a);
  assert.deepEqual([b.codec?.name, b.codec?.fmtp, a.codec?.name], ['opus', 'maxplaybackrate=8000;useinbandfec=1', 'PCMU']);
});

test('wideband bridges keep full-band Opus: Opus↔G.722, Opus↔Opus, a G.722-first offerer', async () => {
  const [a, b] = legs();
  await anchorSdp(new FakeMedia(), OPUS_OFFER, 'offer', a, b);
  const g722 = await anchorSdp(new FakeMedia(), offerSdp('m=audio 6000 RTP/AVP 9', ['a=rtpmap:9 G722/8000']), 'answer', b, a);
  assert.equal(fmtpOf(g722, 111), 'useinbandfec=1');
  const [c, d] = legs();
  await anchorSdp(new FakeMedia(), OPUS_OFFER, 'offer', c, d);
  const opus = await anchorSdp(new FakeMedia(), offerSdp('m=audio 6000 RTP/AVP 111', ['a=rtpmap:111 opus/48000/2', 'a=fmtp:111 useinbandfec=1;stereo=0']), 'answer', d, c);
  assert.equal(fmtpOf(opus, 111), 'useinbandfec=1;stereo=0', 'pass-through: the answer goes through unchanged');
  const [e, f] = legs();
  const offer = await anchorSdp(new FakeMedia(), offerSdp('m=audio 4000 RTP/AVP 9 0', []), 'offer', e, f);
  assert.equal(fmtpOf(offer, 96), null);
});

test('answerOffer: an Opus offerer joining a PCMU party is answered narrowband; one joining an Opus party is not', async () => {
  const pcmu = { pt: 0, name: 'PCMU', clockRate: 8000, channels: 1, fmtp: null, telephoneEventPt: null, ptime: 20 };
  const [leg] = legs();
  const answer = await answerOffer(new FakeMedia(), OPUS_OFFER, leg, pcmu);
  assert.equal(fmtpOf(answer, 111), `useinbandfec=1;${NB}`);
  assert.equal(parseSdp(answer).media[0].attributes.filter((x) => x.name === 'fmtp' && x.value?.startsWith('111 ')).length, 1);
  assert.equal(leg.codec?.fmtp, 'useinbandfec=1');
  const same = await answerOffer(new FakeMedia(), OPUS_OFFER, legs()[0], { ...pcmu, pt: 111, name: 'opus', clockRate: 48000, channels: 2 });
  assert.equal(fmtpOf(same, 111), 'useinbandfec=1');
});
