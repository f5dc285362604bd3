import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** Seed 003 endpoints of issue 3 that must exist (method, OpenAPI path). */
const REQUIRED: Array<[string, string]> = [
  ['get', '/health'], ['get', '/api/health'], ['get', '/api/live'], ['get', '/api/ready'],
  ['post', '/api/auth/login'], ['post', '/api/auth/logout'],
  ['get', '/api/me'], ['put', '/api/me/password'],
  ['get', '/api/users'], ['post', '/api/users'], ['get', '/api/users/{id}'], ['put', '/api/users/{id}'], ['delete', '/api/users/{id}'],
  ['get', '/api/keys'], ['post', '/api/keys'], ['delete', '/api/keys/{id}'],
  ['get', '/api/setup/status'], ['post', '/api/setup/complete'],
  ['get', '/api/devices'], ['post', '/api/devices'], ['get', '/api/devices/{id}'], ['put', '/api/devices/{id}'], ['delete', '/api/devices/{id}'],
  ['get', '/api/dids'], ['post', '/api/dids'], ['get', '/api/dids/{id}'], ['put', '/api/dids/{id}'], ['delete', '/api/dids/{id}'],
  ['get', '/api/routes'], ['post', '/api/routes'], ['get', '/api/routes/{id}'], ['put', '/api/routes/{id}'], ['delete', '/api/routes/{id}'], ['put', '/api/routes/reorder'],
  ['get', '/api/blocklist'], ['post', '/api/blocklist'], ['delete', '/api/blocklist/{id}'],
  ['put', '/api/dnd'],
  ['get', '/api/system/config'], ['put', '/api/system/config'], ['get', '/api/system/status'], ['post', '/api/system/backup'], ['post', '/api/system/restore'],
];

/** POST/PUT actions that take no request body. */
REQUIRED.push(
  ['get', '/api/provisioning/vendors'], ['get', '/api/provisioning/profiles'], ['post', '/api/provisioning/profiles'],
  ['get', '/api/provisioning/profiles/{id}'], ['put', '/api/provisioning/profiles/{id}'], ['delete', '/api/provisioning/profiles/{id}'],
  ['post', '/api/provisioning/device'], ['get', '/api/provisioning/tokens'], ['post', '/api/provisioning/tokens'],
  ['delete', '/api/provisioning/tokens/{id}'], ['get', '/api/provisioning/tokens/{id}/qrcode'], ['get', '/api/provisioning/events'],
  ['get', '/api/provision/{token}'],
);
REQUIRED.push(
  ['get', '/api/system/zrtp/status'], ['put', '/api/system/zrtp/config'], ['get', '/api/system/zrtp/sessions'],
  ['get', '/api/system/zrtp/sas'], ['post', '/api/system/zrtp/sas/verify'],
);
const BODYLESS = new Set(['post /api/auth/logout', 'post /api/system/backup', 'post /api/dids/sync',
  'put /api/messages/conversation/{number}/read', 'put /api/messages/{id}/read', 'post /api/messages/{id}/resend',
  'post /api/messages/{id}/sync', 'post /api/messages/{id}/cancel', 'put /api/voicemails/{id}/read',
  'post /api/apps/{id}/secret', 'post /api/system/tls/renew', 'post /api/system/tls/reload']);

/**
 * Every route Fastify registered, from `printRoutes({ commonPrefix: false })`: each tree line
 * is a path segment appended to its parent's path, with its methods in parentheses.
 */
function registeredRoutes(tree: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│   | {4})*)(?:├── |└── )(.+?) \(([^)]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const path = (depth > 0 ? stack[depth - 1]! : '') + m[2]!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push([method.toLowerCase(), path]);
  }
  return out;
}

describe('OpenAPI document and Swagger UI', () => {
  let t: TestServer;
  let spec: any;
  before(async () => {
    t = await startTestServer('sqlite');
    const r = await t.request('GET', '/openapi.json');
    assert.equal(r.status, 200);
    spec = r.body;
  });
  after(() => t.close());

  test('/openapi.json is a valid OpenAPI 3 document', async () => {
    assert.equal(spec.openapi, '3.0.3');
    assert.equal(spec.info.version, t.server.ctx.version);
    await SwaggerParser.validate(structuredClone(spec));
    assert.ok(spec.components.schemas.ErrorBody, 'ErrorBody is a named component');
    assert.ok(spec.components.schemas.User, 'User is a named component');
  });

  test('every /api route Fastify serves is documented with request and response schemas', () => {
    const routes = registeredRoutes(t.server.app.printRoutes({ commonPrefix: false }))
      .filter(([, p]) => p === '/health' || p.startsWith('/api/'))
      .map(([m, p]) => [m, p.replace(/:([A-Za-z_]+)/g, '{$1}')] as [string, string]);
    assert.ok(routes.length >= REQUIRED.length, `only ${routes.length} routes found`);
    const problems: string[] = [];
    for (const [method, path] of routes) {
      const op = spec.paths[path]?.[method];
      const name = `${method} ${path}`;
      if (!op) { problems.push(`${name}: not in the document`); continue; }
      if (!op.summary) problems.push(`${name}: no summary`);
      if (!op.tags?.length) problems.push(`${name}: no tags`);
      const ok = Object.entries<any>(op.responses ?? {}).filter(([s]) => /^2\d\d$/.test(s));
      // A stub waiting for its feature documents 501 instead of a success answer (and its body later).
      const stub = ok.length === 0 && op.responses?.['501'] !== undefined;
      if (ok.length === 0 && !stub) problems.push(`${name}: no 2xx response`);
      for (const [status, res] of ok) {
        if (!res.content || Object.values<any>(res.content).some((c) => !c.schema)) problems.push(`${name}: ${status} response without a schema`);
      }
      if ((method === 'post' || method === 'put') && !BODYLESS.has(name) && !stub) {
        const content = op.requestBody?.content;
        if (!content || Object.values<any>(content).some((c) => !c.schema)) problems.push(`${name}: no request body schema`);
      }
      if (path.includes('{id}') && !op.parameters?.some((p: any) => p.in === 'path' && p.name === 'id')) problems.push(`${name}: id parameter undocumented`);
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      if (path.startsWith('/api/') && !isPublic && !op.responses['401']) problems.push(`${name}: no 401 response`);
    }
    assert.deepEqual(problems, []);
    const have = new Set(routes.map(([m, p]) => `${m} ${p}`));
    assert.deepEqual(REQUIRED.filter(([m, p]) => !have.has(`${m} ${p}`)), []);
  });

  test('restore documents its multipart upload and backup its binary answer', () => {
    const restore = spec.paths['/api/system/restore'].post;
    assert.deepEqual(Object.keys(restore.requestBody.content), ['multipart/form-data']);
    assert.equal(restore.requestBody.content['multipart/form-data'].schema.properties.file.format, 'binary');
    assert.deepEqual(Object.keys(spec.paths['/api/system/backup'].post.responses['200'].content), ['application/gzip']);
  });

  test('/docs serves the Swagger UI', async () => {
    const res = await fetch(`${t.baseUrl}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/html/);
    const html = await res.text();
    assert.match(html, /swagger-ui/i);
    const init = await fetch(`${t.baseUrl}/docs/static/swagger-initializer.js`);
    assert.equal(init.status, 200);
  });
});
