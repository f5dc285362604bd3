/**
 * SDP serializer: writes fields in RFC 8866 §5 order with CRLF line ends (§5: "lines are
 * separated by CRLF"), so that a description parsed from valid text serializes back to the
 * same bytes. Lines with unknown type letters (`extra`) go after the attributes of their
 * section.
 */
import type {
  MediaDescription,
  SdpAttribute,
  SdpBandwidth,
  SdpConnection,
  SdpLine,
  SessionDescription,
} from './types.ts';

/**
 * @example
 * serializeSdp(parseSdp(text)) === text // for valid SDP with CRLF line ends
 */
export function serializeSdp(sd: SessionDescription): string {
  const out: string[] = [];
  const o = sd.origin;
  out.push(`v=${sd.version}`);
  out.push(`o=${o.username} ${o.sessionId} ${o.sessionVersion} ${o.netType} ${o.addrType} ${o.address}`);
  out.push(`s=${sd.sessionName}`);
  if (sd.info !== null) out.push(`i=${sd.info}`);
  if (sd.uri !== null) out.push(`u=${sd.uri}`);
  for (const e of sd.emails) out.push(`e=${e}`);
  for (const p of sd.phones) out.push(`p=${p}`);
  if (sd.connection !== null) out.push(connectionLine(sd.connection));
  pushBandwidths(out, sd.bandwidths);
  for (const t of sd.timings) {
    out.push(`t=${t.start} ${t.stop}`);
    for (const r of t.repeats) out.push(`r=${r}`);
  }
  if (sd.timeZones !== null) out.push(`z=${sd.timeZones}`);
  if (sd.key !== null) out.push(`k=${sd.key}`);
  pushAttributes(out, sd.attributes);
  pushExtra(out, sd.extra);
  for (const m of sd.media) pushMedia(out, m);
  out.push('');
  return out.join('\r\n');
}

function pushMedia(out: string[], m: MediaDescription): void {
  const port = m.portCount === null ? String(m.port) : `${m.port}/${m.portCount}`;
  out.push(m.formats.length === 0 ? `m=${m.type} ${port} ${m.proto}` : `m=${m.type} ${port} ${m.proto} ${m.formats.join(' ')}`);
  if (m.title !== null) out.push(`i=${m.title}`);
  for (const c of m.connections) out.push(connectionLine(c));
  pushBandwidths(out, m.bandwidths);
  if (m.key !== null) out.push(`k=${m.key}`);
  pushAttributes(out, m.attributes);
  pushExtra(out, m.extra);
}

function connectionLine(c: SdpConnection): string {
  return `c=${c.netType} ${c.addrType} ${c.address}`;
}

function pushBandwidths(out: string[], list: SdpBandwidth[]): void {
  for (const b of list) out.push(`b=${b.type}:${b.value}`);
}

function pushAttributes(out: string[], list: SdpAttribute[]): void {
  for (const a of list) out.push(a.value === null ? `a=${a.name}` : `a=${a.name}:${a.value}`);
}

function pushExtra(out: string[], list: SdpLine[]): void {
  for (const l of list) out.push(`${l.type}=${l.value}`);
}
