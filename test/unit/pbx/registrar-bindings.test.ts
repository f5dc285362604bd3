import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyRegister, bindingKey, DEFAULT_EXPIRY_POLICY, type ContactSpec, type RegisterInput } from '../../../src/pbx/registrar-bindings.ts';

const NOW = 1_800_000_000_000;

function contact(uri: string, extra: Partial<ContactSpec> = {}): ContactSpec {
  return { uri, contact: `<${uri}>`, expires: null, q: null, instanceId: null, regId: null, ...extra };
}

function input(contacts: RegisterInput['contacts'], extra: Partial<RegisterInput> = {}): RegisterInput {
  return {
    aor: '1001', deviceId: 1, contacts, expiresHeader: null, callId: 'call-1', cseq: 1,
    transport: 'udp', sourceIp: '192.0.2.10', sourcePort: 5062, localPort: 5060, connectionId: null, userAgent: 'test',
    ...extra,
  };
}

describe('applyRegister (RFC 3261 §10.3)', () => {
  test('adds a binding with the default expiry', () => {
    const r = applyRegister([], input([contact('sip:1001@192.0.2.10:5062')]), NOW);
    assert.ok(r.ok);
    assert.equal(r.bindings.length, 1);
    assert.equal(r.bindings[0]!.expiresAt, NOW + DEFAULT_EXPIRY_POLICY.defaultExpires * 1000);
  });

  test('contact expires param beats the Expires header; max is clamped', () => {
    const r = applyRegister([], input([contact('sip:a@h', { expires: 120 }), contact('sip:b@h')], { expiresHeader: 99999 }), NOW);
    assert.ok(r.ok);
    const byUri = new Map(r.bindings.map((b) => [b.contactUri, b]));
    assert.equal(byUri.get('sip:a@h')!.expiresAt, NOW + 120_000);
    assert.equal(byUri.get('sip:b@h')!.expiresAt, NOW + DEFAULT_EXPIRY_POLICY.maxExpires * 1000);
  });

  test('423 with Min-Expires for a too brief interval (§10.3 step 7)', () => {
    const r = applyRegister([], input([contact('sip:a@h')], { expiresHeader: 10 }), NOW);
    assert.deepEqual(r, { ok: false, status: 423, reason: 'Interval Too Brief', minExpires: 60 });
  });

  test('re-REGISTER refreshes, Expires: 0 removes', () => {
    const first = applyRegister([], input([contact('sip:a@h')]), NOW);
    assert.ok(first.ok);
    const refresh = applyRegister(first.bindings, input([contact('sip:a@h')], { cseq: 2, expiresHeader: 600 }), NOW + 1000);
    assert.ok(refresh.ok);
    assert.equal(refresh.bindings.length, 1);
    assert.equal(refresh.bindings[0]!.expiresAt, NOW + 1000 + 600_000);
    assert.equal(refresh.bindings[0]!.createdAt, NOW);
    const gone = applyRegister(refresh.bindings, input([contact('sip:a@h')], { cseq: 3, expiresHeader: 0 }), NOW + 2000);
    assert.ok(gone.ok);
    assert.equal(gone.bindings.length, 0);
    assert.equal(gone.removals.length, 1);
  });

  test('same Call-ID with a CSeq not higher is refused (§10.3 step 7)', () => {
    const first = applyRegister([], input([contact('sip:a@h')], { cseq: 5 }), NOW);
    assert.ok(first.ok);
    const r = applyRegister(first.bindings, input([contact('sip:a@h')], { cseq: 5 }), NOW);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.status, 500);
    const other = applyRegister(first.bindings, input([contact('sip:a@h')], { cseq: 1, callId: 'other' }), NOW);
    assert.ok(other.ok);
  });

  test('wildcard needs Expires: 0 and removes every binding', () => {
    const first = applyRegister([], input([contact('sip:a@h'), contact('sip:b@h')]), NOW);
    assert.ok(first.ok);
    const bad = applyRegister(first.bindings, input('*', { cseq: 2 }), NOW);
    assert.equal(!bad.ok && bad.status, 400);
    const ok = applyRegister(first.bindings, input('*', { cseq: 2, expiresHeader: 0 }), NOW);
    assert.ok(ok.ok);
    assert.equal(ok.bindings.length, 0);
    assert.equal(ok.removals.length, 2);
  });

  test('a query (no Contact) lists live bindings and drops expired ones', () => {
    const first = applyRegister([], input([contact('sip:a@h', { expires: 60 }), contact('sip:b@h', { expires: 3600 })]), NOW);
    assert.ok(first.ok);
    const q = applyRegister(first.bindings, input(null), NOW + 61_000);
    assert.ok(q.ok);
    assert.deepEqual(q.bindings.map((b) => b.contactUri), ['sip:b@h']);
  });

  test('RFC 5626 instance + reg-id identify the binding across contact changes', () => {
    const inst = '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>';
    const first = applyRegister([], input([contact('sip:a@10.0.0.1', { instanceId: inst, regId: 1 })]), NOW);
    assert.ok(first.ok);
    const moved = applyRegister(first.bindings, input([contact('sip:a@10.0.0.2', { instanceId: inst, regId: 1 })], { cseq: 2 }), NOW);
    assert.ok(moved.ok);
    assert.equal(moved.bindings.length, 1);
    assert.equal(moved.bindings[0]!.contactUri, 'sip:a@10.0.0.2');
    assert.equal(bindingKey({ uri: 'x', instanceId: inst, regId: 1 }), `${inst};reg-id=1`);
  });

  test('q orders the bindings; too many contacts is refused', () => {
    const r = applyRegister([], input([contact('sip:low@h', { q: 0.1 }), contact('sip:high@h', { q: 0.9 })]), NOW);
    assert.ok(r.ok);
    assert.deepEqual(r.bindings.map((b) => b.contactUri), ['sip:high@h', 'sip:low@h']);
    const many = Array.from({ length: 11 }, (_, i) => contact(`sip:${i}@h`));
    const t = applyRegister([], input(many), NOW);
    assert.equal(!t.ok && t.status, 403);
  });
});
