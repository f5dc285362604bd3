/**
 * Start-up of the seed 002 call gateway: hook deliverer (resuming deliveries a restart left
 * pending), call tokens, the gateway service (on the SIP server's originator when SIP runs)
 * and the number sync. Closers run before the SIP server's.
 */
import type { ApiContext } from '../api/context.ts';
import { join } from 'node:path';
import { realTimers } from '../pbx/call-timers.ts';
import { CallGateway } from './call-gateway.ts';
import { CallTokens } from './call-token.ts';
import { HookDeliverer } from './hook-deliverer.ts';
import { NumbersSync } from './numbers-sync.ts';
import { IncomingCalls } from './incoming-calls.ts';
import { CallRecordWriter } from '../pbx/call-cdr-writer.ts';

export function startCallGateway(ctx: ApiContext, closers: Array<() => Promise<void>>): void {
  const cfg = ctx.config.callGateway;
  const logger = ctx.logger;
  let gateway: CallGateway | undefined;
  const hooks = new HookDeliverer({
    db: ctx.store.db, box: ctx.box, logger, timers: realTimers,
    maxAttempts: cfg.hookMaxAttempts, retryBaseMs: cfg.hookRetryBaseMs, timeoutMs: cfg.hookTimeoutMs,
    answered: (row, body) => gateway?.hookAnswered(row, body),
  });
  gateway = new CallGateway({
    db: ctx.store.db, box: ctx.box, logger, timers: realTimers, hooks,
    originator: ctx.sip?.originator, media: ctx.sip?.media,
    callMedia: { rooms: ctx.rooms, webrtc: ctx.webrtc, media: ctx.media, recordingsDir: join(ctx.config.dataDir, 'media', 'calls') },
  });
  ctx.callGateway = gateway;
  const sip = ctx.sip;
  const records = new CallRecordWriter(ctx.store.db, logger);
  if (sip) {
    const incoming = new IncomingCalls({
      gateway, dialogs: sip.b2bua.ownDialogs, media: sip.media, logger, domain: ctx.config.domain, secretKey: ctx.config.secretKey,
      legEnv: { endpoint: sip.endpoint, timers: realTimers, t1: 500, advertise: sip.advertise }, ringTimeoutMs: ctx.config.calls.ringTimeoutMs,
      records,
    });
    gateway.incoming = incoming;
    sip.b2bua.interceptInvite = (r) => incoming.intercept(r);
  }
  ctx.callTokens = new CallTokens(ctx.config.secretKey, cfg.tokenTtlSeconds);
  ctx.status.set('call_gateway', () => ({ active_calls: gateway.activeCalls, hooks: { ...hooks.counters } }));
  hooks.start();
  closers.unshift(() => hooks.close());
  closers.unshift(() => records.flushed());
  closers.unshift(async () => gateway.close());
  if (cfg.numbersSyncUrl) {
    const sync = new NumbersSync({ db: ctx.store.db, box: ctx.box, logger, url: cfg.numbersSyncUrl, intervalMs: cfg.numbersSyncIntervalMs });
    sync.start();
    closers.unshift(() => sync.close());
  }
}
