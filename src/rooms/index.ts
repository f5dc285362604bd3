/** Rooms: built-in audio conferences whose participants are media endpoints of any kind. */
export { Room, type RoomMedia, type RoomOptions } from './room.ts';
export { RoomRegistry, type RoomLimits, type RoomRegistryEvents, type RoomRegistryOptions } from './room-registry.ts';
export { RoomError, ROOM_ERRORS, type RoomErrorCode } from './room-errors.ts';
export { mixMinus, type MixMember } from './room-mix.ts';
export type { ChatMessage, JoinOptions, LeaveReason, ParticipantKind, ParticipantSnapshot, RoomEvents, RoomSnapshot } from './room-types.ts';
export { RoomDialPlan, type RoomDialPlanOptions, type RoomDialTarget } from './room-dial-plan.ts';
export { RoomCaller, type RoomCallerDeps } from './room-caller.ts';
export { RoomIvr, type RoomIvrDeps } from './room-ivr.ts';
export { SpeakerDetector, type SpeakerOptions } from './speaker-detector.ts';
export { VideoRouter, type SlotAssignment, type VideoRouterEvents, type VideoRouterOptions, type VideoRouterStats } from './video-router.ts';
