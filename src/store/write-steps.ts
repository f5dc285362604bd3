/**
 * A write transaction as data: the statements, in order, that one commit holds. The same steps
 * run on the caller's connection (`SqliteSync`) or on the writer thread's (`sqlite-writer.ts`),
 * so a hot path builds them once and does not care where they commit.
 */

/** One statement; `orElse` runs instead when the statement changed no row (an update of a row that is gone). */
export interface WriteStep {
  /** One of a fixed set of texts, values as `?` placeholders: each is prepared once and kept for good. */
  readonly sql: string;
  readonly params: readonly unknown[];
  readonly orElse?: WriteStep;
}

/** Runs `steps` with `run` (answers the rows a statement changed); the caller holds the transaction. */
export function runSteps(run: (sql: string, params: readonly unknown[]) => number, steps: readonly WriteStep[]): void {
  for (const s of steps) {
    if (run(s.sql, s.params) === 0 && s.orElse !== undefined) run(s.orElse.sql, s.orElse.params);
  }
}
