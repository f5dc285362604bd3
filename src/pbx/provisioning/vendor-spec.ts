import type { Codec, PhoneAccount } from './account.ts';

/** One vendor we render configurations for: what the API lists and how the file is made. */
export interface VendorSpec {
  id: string;
  name: string;
  /** Model families the configuration format applies to. */
  models: readonly string[];
  format: 'xml' | 'cfg' | 'json';
  contentType: string;
  /** The file name the phone asks for (informational: our URL carries a token instead). */
  fileName: string;
  codecs: readonly Codec[];
  /** Raw keys a profile may add under `settings`, e.g. Grandstream's P-values. */
  settingKey: RegExp;
  settingKeyHint: string;
  render(a: PhoneAccount): string;
}

/** Codec preference `i` (0-based) or undefined past the end of the list. */
export function nthCodec(a: PhoneAccount, i: number): Codec | undefined {
  return a.codecs[i];
}
