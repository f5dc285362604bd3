import type { FastifySchemaValidationError } from 'fastify';
import type { FieldError } from './errors.ts';

/** One details entry per offending field, named the way the client sent it. */
export function fieldErrors(errors: FastifySchemaValidationError[]): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    const params = e.params as Record<string, unknown>;
    let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
      field = field ? `${field}.${params.missingProperty}` : params.missingProperty;
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
      field = field ? `${field}.${params.additionalProperty}` : params.additionalProperty;
      message = 'is not allowed';
    }
    // anyOf/oneOf produce one error per branch; the first is the useful one.
    const key = `${field}\u0000${e.keyword === 'anyOf' ? '' : message}`;
    if (seen.has(field) && e.keyword !== 'required') continue;
    if (seen.has(key)) continue;
    seen.add(key);
    seen.add(field);
    out.push({ field: field || '(body)', message });
  }
  return out;
}
