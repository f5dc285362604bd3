/** Errors of the rooms layer; the API maps `code` to its own envelope (seed 000's 503, /api's 409…). */
export const ROOM_ERRORS = {
  ROOM_BAD_NAME: 'room names are 1-64 letters, digits, "-", "_" or ".", starting with a letter or digit',
  ROOM_LIMIT: 'the maximum number of rooms is reached',
  ROOM_FULL: 'the room has its maximum number of participants',
  ROOM_CLOSED: 'the room is closed',
  ROOM_NO_PARTICIPANT: 'no such participant in this room',
} as const;

export type RoomErrorCode = keyof typeof ROOM_ERRORS;

export class RoomError extends Error {
  readonly code: RoomErrorCode;
  constructor(code: RoomErrorCode, detail?: string) {
    super(detail === undefined ? ROOM_ERRORS[code] : `${ROOM_ERRORS[code]}: ${detail}`);
    this.name = 'RoomError';
    this.code = code;
  }
}
