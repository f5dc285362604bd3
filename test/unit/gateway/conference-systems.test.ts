/**
 * Issue 13: `webrtc_domain` / `domain` select the conference system. The operator's systems
 * (`STROWGER_CONFERENCE_SYSTEMS`) are validated at start and found by domain, `{room}` filled in.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config.ts';
import { configuredSystem, externalSystemOf } from '../../../src/gateway/external-room.ts';

const dir = mkdtempSync(join(tmpdir(), 'strowger-cfg-'));
const systemsOf = (raw?: string) => loadConfig({ STROWGER_DATA_DIR: dir, ...(raw === undefined ? {} : { STROWGER_CONFERENCE_SYSTEMS: raw }) }).gateways.conferenceSystems;

describe('conference systems', () => {
  test('STROWGER_CONFERENCE_SYSTEMS: domains lower-cased, at least one http(s) URL each; bad values name the variable', () => {
    assert.equal(systemsOf().size, 0);
    const s = systemsOf('{"Meet.Example": {"whip": "https://meet.example/whip/{room}", "token": "t0k"}}');
    assert.deepEqual([...s], [['meet.example', { whip: 'https://meet.example/whip/{room}', whep: undefined, token: 't0k' }]]);
    for (const [bad, why] of [
      ['not json', /must be a JSON object \{/],
      ['[]', /keyed by domain/],
      ['{"a": 1}', /a: must be an object/],
      ['{"a": {}}', /a: needs "whip" and\/or "whep"/],
      ['{"a": {"whip": "ftp://x"}}', /a\.whip: must be an http\(s\) URL/],
      ['{"a": {"whep": "https://x", "token": 5}}', /a\.token: must be a string/],
    ] as const) assert.throws(() => systemsOf(bad), (e: Error) => e.name === 'ConfigError' && /^STROWGER_CONFERENCE_SYSTEMS: /.test(e.message) && why.test(e.message), bad);
  });

  test('a domain finds its system with the room filled in (URL-encoded); other domains find none', () => {
    const systems = systemsOf('{"sfu.test": {"whip": "https://sfu.test/whip/{room}", "whep": "https://sfu.test/whep/{room}?x={room}", "token": "k"}}');
    assert.deepEqual(configuredSystem(systems, ' SFU.test ', 'a b/c'), { whipUrl: 'https://sfu.test/whip/a%20b%2Fc', whepUrl: 'https://sfu.test/whep/a%20b%2Fc?x=a%20b%2Fc', token: 'k' });
    assert.equal(configuredSystem(systems, 'other.test', 'r'), null);
    assert.equal(configuredSystem(systems, undefined, 'r'), null);
    // Seed 001: URLs in the entry win; an entry with only a configured domain uses the system; else built-in.
    assert.deepEqual(externalSystemOf({ x: { whip: 'https://a.test/w' } }, 'r', systems), { whipUrl: 'https://a.test/w', whepUrl: undefined, token: undefined });
    assert.equal(externalSystemOf({ x: { domain: 'sfu.test' } }, 'r1', systems)?.whipUrl, 'https://sfu.test/whip/r1');
    assert.equal(externalSystemOf({ x: { name: 'Local', domain: 'local.test' } }, 'r1', systems), null);
  });
});
