/**
 * Which runner each gateway type gets, and the per-type rules on its parameters (checked
 * before anything is opened, so bad input changes nothing).
 */
import type { MediaEngine } from '../media/media-engine.ts';
import type { TranscriptionEngine } from '../integrations/transcription/index.ts';
import { GatewayError } from './gateway-errors.ts';
import type { GatewayParams, GatewayRunner, RunnerContext } from './gateway-types.ts';
import type { Originator } from '../pbx/originate.ts';
import type { RoomDialPlan } from '../rooms/room-dial-plan.ts';
import { SipGateway } from './sip-gateway.ts';
import { RecordGateway } from './record-gateway.ts';
import type { RecordingMailer } from './recording-mail.ts';
import { StreamingGateway } from './streaming-gateway.ts';

export interface RunnerDeps {
  media: MediaEngine;
  recordingsDir: string;
  transcription: TranscriptionEngine;
  mail: RecordingMailer;
  streamRetries: number;
  streamRetryBaseMs: number;
  /** PBX-originated calls (SIP gateways with `dial`); absent without SIP. */
  originator?: Originator;
  /** Room dial plan (SIP gateways without `dial`); absent without SIP. */
  dialPlan?: RoomDialPlan;
  /** Default domain of a SIP gateway's URI (`STROWGER_DOMAIN`). */
  domain: string;
  /** First re-dial delay of a looping SIP gateway. */
  redialBaseMs?: number;
}

const RTMP_URL = /^rtmps?:\/\/[^\s/]+\/\S+$/;
const MAIL = /^[^\s@]+@[^\s@]+$/;

/** @throws GatewayError GW_BAD_REQUEST. */
export function checkGatewayParams(p: GatewayParams): void {
  if (p.type === 'Streaming' && (p.rtmpDst === undefined || !RTMP_URL.test(p.rtmpDst))) {
    throw new GatewayError('GW_BAD_REQUEST', 'a Streaming gateway needs rtmpDst, an rtmp:// or rtmps:// URL with an application path');
  }
  if (p.recipientMail !== undefined && !MAIL.test(p.recipientMail)) throw new GatewayError('GW_BAD_REQUEST', `recipientMail "${p.recipientMail}" is not a mail address`);
}

/** What the service needs to make runners: a check before anything is opened, then the runner. */
export interface GatewayRunners {
  /** @throws GatewayError GW_BAD_REQUEST, GW_UNAVAILABLE. */
  check(params: GatewayParams): void;
  create(params: GatewayParams, ctx: RunnerContext): GatewayRunner;
}

export function gatewayRunners(deps: RunnerDeps): GatewayRunners {
  return { check, create };

  function check(params: GatewayParams): void {
    checkGatewayParams(params);
    if (params.type === 'SIP' && params.dial !== undefined && deps.originator === undefined) throw new GatewayError('GW_UNAVAILABLE', 'this node places no SIP calls');
    if (params.type === 'SIP' && params.dial === undefined && deps.dialPlan === undefined) throw new GatewayError('GW_UNAVAILABLE', 'this node has no room dial plan');
  }

  function create(params: GatewayParams, ctx: RunnerContext): GatewayRunner {
    switch (params.type) {
      case 'Record':
        return new RecordGateway(params, ctx.rowId, { media: deps.media, dir: deps.recordingsDir, engine: deps.transcription, mail: deps.mail });
      case 'Streaming':
        return new StreamingGateway(params, { media: deps.media, maxRetries: deps.streamRetries, retryBaseMs: deps.streamRetryBaseMs, failed: ctx.failed });
      case 'SIP':
        return new SipGateway(params, {
          originator: deps.originator, dialPlan: deps.dialPlan, media: deps.media, domain: deps.domain,
          failed: ctx.failed, ended: ctx.ended, retryBaseMs: deps.redialBaseMs,
        });
    }
  }
}
