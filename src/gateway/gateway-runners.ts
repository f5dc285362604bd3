/**
 * Which runner each gateway type gets, and the per-type rules on its parameters (checked
 * before anything is opened, so bad input changes nothing).
 */
import type { MediaEngine } from '../media/media-engine.ts';
import type { TranscriptionEngine } from '../integrations/transcription/index.ts';
import { GatewayError } from './gateway-errors.ts';
import type { GatewayParams, GatewayRunner, RunnerFailed } from './gateway-types.ts';
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
  /** @throws GatewayError GW_BAD_REQUEST, GW_NOT_IMPLEMENTED. */
  check(params: GatewayParams): void;
  create(params: GatewayParams, ctx: { rowId: number; failed: RunnerFailed }): GatewayRunner;
}

const SIP_PENDING = 'SIP gateways (dial out, or a SIP URI callers dial into the room) are pending: they need the PBX originate and room dial-plan work';

export function gatewayRunners(deps: RunnerDeps): GatewayRunners {
  return { check, create };

  function check(params: GatewayParams): void {
    checkGatewayParams(params);
    if (params.type === 'SIP') throw new GatewayError('GW_NOT_IMPLEMENTED', SIP_PENDING);
  }

  function create(params: GatewayParams, ctx: { rowId: number; failed: RunnerFailed }): GatewayRunner {
    switch (params.type) {
      case 'Record':
        return new RecordGateway(params, ctx.rowId, { media: deps.media, dir: deps.recordingsDir, engine: deps.transcription, mail: deps.mail });
      case 'Streaming':
        return new StreamingGateway(params, { media: deps.media, maxRetries: deps.streamRetries, retryBaseMs: deps.streamRetryBaseMs, failed: ctx.failed });
      case 'SIP':
        throw new GatewayError('GW_NOT_IMPLEMENTED', SIP_PENDING);
    }
  }
}
