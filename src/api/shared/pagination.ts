import { Type, type Static, type TSchema } from '@sinclair/typebox';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export const PaginationQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT, description: `Page size (max ${MAX_LIMIT})` }),
  offset: Type.Integer({ minimum: 0, default: 0, description: 'Rows to skip' }),
});
export type PaginationQuery = Static<typeof PaginationQuery>;

export const Pagination = Type.Object({
  total: Type.Integer(),
  limit: Type.Integer(),
  offset: Type.Integer(),
});

/** `{"data":[…],"pagination":{"total","limit","offset"}}` for an item schema. */
export function ListOf<T extends TSchema>(item: T) {
  return Type.Object({ data: Type.Array(item), pagination: Pagination });
}

export function page<T>(data: T[], total: number, q: { limit: number; offset: number }) {
  return { data, pagination: { total, limit: q.limit, offset: q.offset } };
}
