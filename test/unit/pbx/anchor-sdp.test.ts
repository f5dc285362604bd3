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
