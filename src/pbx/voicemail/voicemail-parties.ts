/**
 * The voicemail side of the call engine: which local party answers a call the router sent
 * to voicemail (`call-local.ts`). One instance per node, created with the media engine.
 */
import type { LocalParty, LocalTarget } from '../call-local.ts';
import { VoicemailDeposit, type VoicemailDeps } from './deposit.ts';
import { MailboxMenu } from './mailbox-menu.ts';

export function voicemailParties(deps: VoicemailDeps): (target: LocalTarget) => LocalParty | undefined {
  return (target) => {
    switch (target.kind) {
      case 'voicemail': return new VoicemailDeposit(deps, target.mailbox);
      case 'voicemail-menu': return new MailboxMenu(deps, target.deviceId);
      default: return undefined;
    }
  };
}
