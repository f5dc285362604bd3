/**
 * Generic accessors over the ordered attribute list of a session or media section.
 * Attribute names compare case-sensitively, as RFC 8866 §5.13 defines them.
 *
 * Mutators keep the position of the first existing occurrence so that a rewrite changes as
 * little of the text as possible.
 */
import type { SdpAttribute, SdpAttributeOwner } from './types.ts';

/**
 * Value of the first `a=<name>`: a string for `a=name:value`, null for a property attribute
 * (`a=rtcp-mux`), undefined when absent.
 */
export function getAttribute(owner: SdpAttributeOwner, name: string): string | null | undefined {
  for (const a of owner.attributes) if (a.name === name) return a.value;
  return undefined;
}

export function hasAttribute(owner: SdpAttributeOwner, name: string): boolean {
  return owner.attributes.some((a) => a.name === name);
}

/** Values of every `a=<name>` line in order; property attributes give the empty string. */
export function getAttributes(owner: SdpAttributeOwner, name: string): string[] {
  const out: string[] = [];
  for (const a of owner.attributes) if (a.name === name) out.push(a.value ?? '');
  return out;
}

/** Appends `a=<name>[:value]` after the existing attributes. */
export function addAttribute(owner: SdpAttributeOwner, name: string, value: string | null = null): void {
  owner.attributes.push({ name, value });
}

/**
 * Sets the single `a=<name>` line: replaces the first occurrence in place, drops the others,
 * appends when absent.
 */
export function setAttribute(owner: SdpAttributeOwner, name: string, value: string | null = null): void {
  const index = owner.attributes.findIndex((a) => a.name === name);
  if (index < 0) {
    owner.attributes.push({ name, value });
    return;
  }
  owner.attributes[index] = { name, value };
  owner.attributes = owner.attributes.filter((a, i) => i <= index || a.name !== name);
}

/** Removes every attribute for which `match` is true; returns how many were removed. */
export function removeAttributes(
  owner: SdpAttributeOwner,
  match: string | ((a: SdpAttribute) => boolean),
): number {
  const test = typeof match === 'string' ? (a: SdpAttribute) => a.name === match : match;
  const before = owner.attributes.length;
  owner.attributes = owner.attributes.filter((a) => !test(a));
  return before - owner.attributes.length;
}
