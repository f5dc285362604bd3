import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, httpUrl, int, optionalPort } from '../../src/config-env.ts';

const bad = (name: string, why: RegExp) => (e: unknown) => e instanceof ConfigError && e.variable === name && why.test(e.message);

describe('config-env: typed readers of environment variables', () => {
  test('int: default when unset, bounds and digits checked, the variable named', () => {
    assert.equal(int({}, 'X', 7, 1, 10), 7);
    assert.equal(int({ X: '10' }, 'X', 7, 1, 10), 10);
    assert.throws(() => int({ X: '11' }, 'X', 7, 1, 10), bad('X', /between 1 and 10/));
    assert.throws(() => int({ X: '-1' }, 'X', 7, 0, 10), bad('X', /integer/));
  });

  test('optionalPort: off/false turn it off', () => {
    assert.equal(optionalPort({ P: 'off' }, 'P', 5061), null);
    assert.equal(optionalPort({}, 'P', 5061), 5061);
    assert.equal(optionalPort({ P: '5062' }, 'P', 5061), 5062);
  });

  test('httpUrl: http(s) only, trailing slashes dropped; a query only where allowed, then kept as given', () => {
    assert.equal(httpUrl({ U: 'https://a.example/x/' }, 'U'), 'https://a.example/x');
    assert.equal(httpUrl({}, 'U'), undefined);
    assert.throws(() => httpUrl({ U: 'ftp://a.example' }, 'U'), bad('U', /http/));
    assert.throws(() => httpUrl({ U: 'not a url' }, 'U'), bad('U', /absolute URL/));
    assert.throws(() => httpUrl({ U: 'https://a.example/?k=1' }, 'U'), bad('U', /query or fragment/));
    assert.equal(httpUrl({ U: 'https://a.example/sync?key=k1' }, 'U', { query: true }), 'https://a.example/sync?key=k1');
  });
});
