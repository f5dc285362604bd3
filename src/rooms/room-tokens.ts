/**
 * Room tokens: short-lived HS256 JWTs (jose) that let their bearer into one room — through the
 * room page when `STROWGER_ROOMS_REQUIRE_TOKEN=1`, and always through WHIP/WHEP. They are minted
 * by an authenticated API call (`POST /api/rooms/{name}/tokens`); the key is derived from the
 * server's secret key, so tokens need no storage and survive restarts.
 *
 * @example
 * const tokens = new RoomTokens(config.secretKey);
 * const { token } = await tokens.mint('standup', { displayName: 'Alice', ttlSeconds: 3600 });
 * await tokens.verify(token, 'standup'); // { displayName: 'Alice' } or null
 */
import { createHmac } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

const AUDIENCE = 'strowger-room';

export interface RoomGrant {
  /** The name the token's bearer is shown with, when the minting call set one. */
  displayName: string | null;
}

export class RoomTokens {
  private readonly key: Uint8Array;

  constructor(secretKey: Buffer) {
    // A key of its own: a leaked room token must not help forge anything else signed with the secret.
    this.key = createHmac('sha256', secretKey).update('strowger room tokens v1').digest();
  }

  async mint(room: string, options: { displayName?: string; ttlSeconds: number }): Promise<{ token: string; expiresAt: Date }> {
    const expiresAt = new Date(Date.now() + options.ttlSeconds * 1000);
    const jwt = new SignJWT(options.displayName === undefined ? {} : { name: options.displayName })
      .setProtectedHeader({ alg: 'HS256' })
      .setAudience(AUDIENCE)
      .setSubject(room)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000));
    return { token: await jwt.sign(this.key), expiresAt };
  }

  /** The grant of a valid, unexpired token for `room`; null for anything else. */
  async verify(token: string, room: string): Promise<RoomGrant | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, { audience: AUDIENCE, subject: room, algorithms: ['HS256'] });
      return { displayName: typeof payload.name === 'string' ? payload.name : null };
    } catch {
      return null;
    }
  }
}
