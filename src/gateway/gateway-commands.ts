/**
 * `/gateway/command` (seed 001): any JSON is acknowledged and echoed; the commands we know
 * are executed against the running gateway. A command is either a key of the body
 * (`{"sendChat": "hello", "mute": true}`) or `{"command": "dtmf", "value": "123#"}`.
 *
 * - `sendKey` / `dtmf`: DTMF digits into the gateway's SIP leg (SIP gateways only).
 * - `sendChat`: a message into the room's chat, from the gateway's display name.
 * - `displayName`: the name the gateway's chat messages carry from now on.
 * - `mute`: true/false, mutes what the gateway says in the room.
 * - `endCall`: stops the gateway (hangs up its call).
 */
import { GatewayError } from './gateway-errors.ts';
import type { GatewayService } from './gateway-service.ts';

export const KNOWN_COMMANDS = ['sendKey', 'dtmf', 'sendChat', 'displayName', 'mute', 'endCall'] as const;
type Known = (typeof KNOWN_COMMANDS)[number];

export interface CommandOutcome {
  executed: string[];
  unknown: string[];
  failed: Record<string, string>;
}

/** The commands a body names, in order. */
export function commandsOf(body: unknown): Array<{ name: string; value: unknown }> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const o = body as Record<string, unknown>;
  if (typeof o.command === 'string') return [{ name: o.command, value: o.value ?? o.args ?? o.text ?? o.digits }];
  return Object.entries(o).map(([name, value]) => ({ name, value }));
}

const isKnown = (name: string): name is Known => (KNOWN_COMMANDS as readonly string[]).includes(name);

/** @throws GatewayError GW_NOT_FOUND when the gateway is not running. */
export async function runGatewayCommands(gateways: GatewayService, gwId: string, body: unknown): Promise<CommandOutcome> {
  const gw = gateways.running(gwId);
  const out: CommandOutcome = { executed: [], unknown: [], failed: {} };
  for (const { name, value } of commandsOf(body)) {
    if (!isKnown(name)) {
      out.unknown.push(name);
      continue;
    }
    try {
      switch (name) {
        case 'sendKey':
        case 'dtmf': {
          const digits = String(value ?? '');
          if (!/^[0-9*#A-Da-d]{1,32}$/.test(digits)) throw new GatewayError('GW_BAD_REQUEST', `"${digits.slice(0, 40)}" are no DTMF digits (0-9 * # A-D, at most 32)`);
          if (gw.runner.command === undefined || !(await gw.runner.command('dtmf', digits))) {
            throw new GatewayError('GW_BAD_REQUEST', `a ${gw.params.type} gateway has no SIP leg to send DTMF into`);
          }
          break;
        }
        case 'sendChat':
          if (typeof value !== 'string' || value.trim() === '') throw new GatewayError('GW_BAD_REQUEST', 'sendChat needs a non-empty string');
          gw.room.chat(gw.params.fromId || `gateway ${gwId}`, value);
          break;
        case 'displayName':
          if (typeof value !== 'string' || value.trim() === '') throw new GatewayError('GW_BAD_REQUEST', 'displayName needs a non-empty string');
          gw.params.fromId = value.trim().slice(0, 64);
          break;
        case 'mute':
          if (gw.runner.participantId === null) throw new GatewayError('GW_BAD_REQUEST', 'the gateway is not in its room');
          await gw.room.setMuted(gw.runner.participantId, value !== false && value !== 'false' && value !== 0);
          break;
        case 'endCall':
          await gateways.stop(gwId);
          break;
      }
      out.executed.push(name);
    } catch (err) {
      out.failed[name] = (err as Error).message;
    }
  }
  return out;
}
