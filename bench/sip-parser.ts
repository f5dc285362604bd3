/**
 * SIP parser throughput: messages/s for parseMessage + the routing headers the core reads
 * (Via branch, From/To tags, Call-ID, CSeq), next to a floor measured in the same run:
 * `Buffer.toString` + `split('\r\n')` of the same bytes, which any parser must at least do.
 *
 *     node --import tsx -e "import('./bench/sip-parser.ts').then(m=>m.run())"
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseMessage } from '../src/sip/parse-message.ts';
import { serialize } from '../src/sip/serialize.ts';

const CORPUS = fileURLToPath(new URL('../test/fixtures/rfc4475/', import.meta.url));

const REGISTER = Buffer.from(
  'REGISTER sip:pbx.example.com SIP/2.0\r\n' +
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---a4b3c2d1e0f9;rport\r\n' +
    'Max-Forwards: 70\r\n' +
    'Contact: <sip:1001@192.0.2.10:5060;rinstance=8f2c1a9b7d6e5f40;transport=UDP>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"\r\n' +
    'To: <sip:1001@pbx.example.com>\r\n' +
    'From: <sip:1001@pbx.example.com>;tag=5a8b2c1d\r\n' +
    'Call-ID: Mjc3ZTRmYjM4ZDE5NjA0YzQ4ZWY1MDE0NjFhNjU0ZTM\r\n' +
    'CSeq: 2 REGISTER\r\n' +
    'Expires: 3600\r\n' +
    'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n' +
    'Supported: replaces, norefersub, extended-refer, timer, outbound, path, X-cisco-serviceuri\r\n' +
    'User-Agent: Z 5.6.1 v2.10.19.9\r\n' +
    'Authorization: Digest username="1001",realm="pbx.example.com",nonce="66b1f0e2a3c4d5e6",uri="sip:pbx.example.com",response="0a4f113b3e2c1d5e6f708192a3b4c5d6",algorithm=MD5\r\n' +
    'Allow-Events: presence, kpml, talk\r\n' +
    'Content-Length: 0\r\n\r\n',
);

const SDP =
  'v=0\r\no=Z 0 1 IN IP4 192.0.2.10\r\ns=Z\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n' +
  'm=audio 8000 RTP/AVP 106 9 98 101 0 8 3\r\na=rtpmap:106 opus/48000/2\r\na=fmtp:106 sprop-maxcapturerate=16000; minptime=20; useinbandfec=1\r\n' +
  'a=rtpmap:98 telephone-event/48000\r\na=fmtp:98 0-16\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n';

const INVITE = Buffer.from(
  'INVITE sip:1002@pbx.example.com SIP/2.0\r\n' +
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-524287-1---77c3b1a2d4e5f6a7;rport\r\n' +
    'Max-Forwards: 70\r\n' +
    'Contact: <sip:1001@192.0.2.10:5060;transport=UDP>\r\n' +
    'To: <sip:1002@pbx.example.com>\r\n' +
    'From: "Alice" <sip:1001@pbx.example.com>;tag=9f3e2d1c\r\n' +
    'Call-ID: ZDRkYzU3OTY1ZjM0NDhhNzQ2YjY1MzZhNGQ3ZjRlZDA\r\n' +
    'CSeq: 1 INVITE\r\n' +
    'Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE\r\n' +
    'Content-Type: application/sdp\r\n' +
    'Supported: replaces, norefersub, extended-refer, timer, outbound, path\r\n' +
    'User-Agent: Z 5.6.1 v2.10.19.9\r\n' +
    'Allow-Events: presence, kpml, talk\r\n' +
    `Content-Length: ${Buffer.byteLength(SDP)}\r\n\r\n${SDP}`,
);

/** Messages a conforming parser accepts (MANIFEST `ok`). */
function validCorpus(): Buffer[] {
  return readFileSync(`${CORPUS}MANIFEST.tsv`, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .map((l) => l.split('\t'))
    .filter((cols) => cols[3] === 'ok')
    .map((cols) => readFileSync(CORPUS + cols[0]));
}

let sink = 0;

/** What the core reads on every message before it can route it. */
function parseAndRoute(buf: Buffer): void {
  const m = parseMessage(buf);
  const top = m.via[0];
  sink += (top.branch?.length ?? 0) + (m.fromTag?.length ?? 0) + m.to.uri.host.length + m.callId.length + m.cseq.seq;
}

function parseOnly(buf: Buffer): void {
  sink += parseMessage(buf)._keys.length;
}

function floor(buf: Buffer): void {
  sink += buf.toString().split('\r\n').length;
}

function reserialize(buf: Buffer): void {
  const m = parseMessage(buf);
  m.setHeader('Max-Forwards', '69');
  sink += serialize(m).length;
}

/**
 * Runs `fn` over `msgs` round-robin for at least `ms` of wall time; returns messages per
 * wall-clock second and per CPU second (the latter is what an unshared core would do: on a
 * loaded box the wall figure mostly measures the neighbours).
 */
function measure(msgs: Buffer[], fn: (b: Buffer) => void, ms: number): { wall: number; cpu: number } {
  for (let i = 0; i < 20000; i++) fn(msgs[i % msgs.length]); // warm-up (JIT)
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const limit = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  do {
    for (let i = 0; i < 1000; i++) fn(msgs[(n + i) % msgs.length]);
    n += 1000;
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < limit);
  const cpu = process.cpuUsage(c0);
  return { wall: (n * 1e9) / Number(elapsed), cpu: (n * 1e6) / (cpu.user + cpu.system) };
}

export async function run(): Promise<void> {
  const corpus = validCorpus();
  const sets: Array<[string, Buffer[]]> = [
    ['REGISTER (softphone style)', [REGISTER]],
    ['INVITE with SDP', [INVITE]],
    [`RFC 4475 valid set (${corpus.length} msgs)`, corpus],
  ];
  const fmt = (r: { wall: number; cpu: number }) =>
    `${Math.round(r.wall).toLocaleString('en-US')} / ${Math.round(r.cpu).toLocaleString('en-US')}`.padStart(19);
  console.log(`sip-parser: messages/s as wall / per-CPU-second (>= 2 s each after warm-up), loadavg ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`);
  console.log(`${'set'.padEnd(30)} ${'parse+route'.padStart(19)} ${'parse only'.padStart(19)} ${'reserialize'.padStart(19)} ${'floor*'.padStart(19)}`);
  for (const [name, msgs] of sets) {
    const route = measure(msgs, parseAndRoute, 2000);
    const only = measure(msgs, parseOnly, 1000);
    const reser = measure(msgs, reserialize, 1000);
    const ref = measure(msgs, floor, 1000);
    console.log(`${name.padEnd(30)} ${fmt(route)} ${fmt(only)} ${fmt(reser)} ${fmt(ref)}`);
  }
  console.log('* floor: buf.toString() + split("\\r\\n") of the same bytes (no parsing at all)');
  console.log(`peak RSS: ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB (${process.resourceUsage().maxRSS} KB)  [sink ${sink % 10}]`);
}
