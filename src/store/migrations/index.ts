/**
 * Migrations by name; Kysely runs them in name order, so names start with the date.
 * A static map (not a folder scan) keeps start-up independent of the working directory.
 */
import * as m001 from './2026-11-24-001-initial.ts';

export const migrations = {
  '2026-11-24-001-initial': m001,
};
