/**
 * Seed 000 (SIPMediaGW) shapes. Parameters are all optional strings to the validator: the
 * seed's own error strings (`a room name must be specified`…) are given by the handlers, so
 * a missing `room` gets the seed's answer rather than a generic validation error.
 */
import { Type } from '@sinclair/typebox';

const str = (description: string) => Type.Optional(Type.String({ description }));

export const StartQuery = Type.Object({
  room: str('The room name (required).'),
  from: str('Display name / caller id the gateway uses in the room and on SIP calls.'),
  prefix: str('Prefix of the SIP user name: the gateway answers at sip:<prefix><room>@<domain>.'),
  domain: str('The domain for WebRTC: a conference system configured in STROWGER_CONFERENCE_SYSTEMS puts the gateway into that system\'s room; any other value is the domain of the SIP URI (default STROWGER_DOMAIN).'),
  rtmpDst: str('RTMP destination (rtmp:// or rtmps://): starts a Streaming gateway.'),
  dial: str('SIP URI or number to call and bridge into the room.'),
  loop: str('true/1/yes: re-dial or restart when the far end hangs up, until /stop.'),
});

export const RoomQuery = Type.Object({ room: str('The room name (required).') });
export const ChatToggleQuery = Type.Object({
  room: str('The room name (required).'),
  toggle: str('on/off (also true/false, 1/0, yes/no): whether the room\'s gateways relay its chat (required).'),
});
export const ChatBody = Type.Object({
  room: Type.Optional(Type.Unknown({ description: 'The room name (required).' })),
  msg: Type.Optional(Type.Unknown({ description: 'The message (required, a non-empty string).' })),
}, { additionalProperties: true });

export const Success = Type.Object({
  status: Type.Literal('success'),
  details: Type.Object({
    res: Type.String(),
    app: Type.Optional(Type.String({ description: 'The engine running the gateway: `strowger`.' })),
    uri: Type.Optional(Type.String({ description: 'Where the gateway is reached: its SIP URI, or the RTMP destination of a Streaming gateway.' })),
  }),
});

export const SeedError = Type.Object({ Error: Type.String() }, { description: 'Seed 000 error envelope' });
