import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseThreadStatCpuMs, threadCpuMs } from '../../../src/media/thread-cpu.ts';

test('parses utime + stime (fields 14, 15) after a command name with spaces and parentheses', () => {
  const stat = '4242 (strowger (relay) 1) S 1 4242 4242 0 -1 4194560 2000 0 0 0 123 45 0 0 20 0 3 0 100 0 0';
  assert.equal(parseThreadStatCpuMs(stat), (123 + 45) * 10);
});

test('garbage gives -1', () => {
  assert.equal(parseThreadStatCpuMs('no parenthesis'), -1);
  assert.equal(parseThreadStatCpuMs('1 (x) S 1'), -1);
});

test('the live value is a non-negative number on Linux, and grows with work', { skip: process.platform !== 'linux' && 'Linux only' }, () => {
  const before = threadCpuMs();
  assert.ok(before >= 0);
  const end = Date.now() + 60;
  while (Date.now() < end);
  assert.ok(threadCpuMs() >= before);
});
