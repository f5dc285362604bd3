/** XML escaping for text and attribute values (every renderer of an XML format uses it). */
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(v: string): string {
  return v.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);
}

/** `<name attrs>value</name>` with the value escaped; attributes are written as given (trusted literals). */
export function xmlElement(name: string, value: string, attrs = ''): string {
  return `<${name}${attrs ? ` ${attrs}` : ''}>${escapeXml(value)}</${name}>`;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
