/**
 * A local hook receiver for call-gateway tests: records every POST (headers, raw body) and
 * answers from a script (`respond`), e.g. 500 twice then 200 with an action body.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HookRequest {
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

export interface HookReceiver {
  url: string;
  requests: HookRequest[];
  /** Decides the answer of each request (default 200, empty body). */
  respond: (req: HookRequest, index: number) => { status: number; body?: Buffer | string; contentType?: string };
  close(): Promise<void>;
}

export async function startHookReceiver(): Promise<HookReceiver> {
  const r: HookReceiver = {
    url: '', requests: [], respond: () => ({ status: 200 }),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h: HookRequest = { headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      r.requests.push(h);
      const a = r.respond(h, r.requests.length - 1);
      res.writeHead(a.status, { 'content-type': a.contentType ?? 'application/json' });
      res.end(a.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}
