/** Schemas shared by several `/api` route modules. */
import { Type, type Static } from '@sinclair/typebox';

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });
export type IdParams = Static<typeof IdParams>;

export const Email = Type.String({ format: 'email', maxLength: 254, examples: ['admin@example.com'] });
export const Password = Type.String({ minLength: 8, maxLength: 256, examples: ['correct-horse-battery'] });
export const Role = Type.Union([Type.Literal('admin'), Type.Literal('user')]);

export const UserSchema = Type.Object({
  id: Type.Integer(),
  email: Type.String(),
  role: Role,
  dnd_enabled: Type.Boolean(),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
}, { $id: 'User', examples: [{ id: 1, email: 'admin@example.com', role: 'admin', dnd_enabled: false, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' }] });

export const Ok = Type.Object({ success: Type.Boolean() }, { examples: [{ success: true }] });
