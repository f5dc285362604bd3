/** The vendors we render configurations for, by id (the device `type` / profile `vendor`). */
import type { VendorSpec } from '../vendor-spec.ts';
import { grandstream } from './grandstream.ts';
import { yealink } from './yealink.ts';
import { polycom } from './polycom.ts';
import { ciscoSpa } from './cisco-spa.ts';
import { snom } from './snom.ts';
import { fanvil } from './fanvil.ts';
import { generic } from './generic.ts';

export const VENDORS: readonly VendorSpec[] = [grandstream, yealink, polycom, ciscoSpa, snom, fanvil, generic];
const BY_ID = new Map(VENDORS.map((v) => [v.id, v]));
/** Names devices are often given that mean one of our vendors. */
const ALIASES: Record<string, string> = { poly: 'polycom', 'cisco-spa': 'cisco', spa: 'cisco', linksys: 'cisco' };

export function findVendor(id: string): VendorSpec | undefined {
  const k = id.toLowerCase();
  return BY_ID.get(ALIASES[k] ?? k);
}
