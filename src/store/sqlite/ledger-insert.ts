import type BetterSqlite3 from 'better-sqlite3';
import { LEDGER_COLUMNS, type LedgerRow } from '../ledger-records.js';
import { SqliteShippedFold } from './sqlite-shipped-fold.js';

type Value = string | number | null;

/** Inserts a batch of ledger rows in one transaction; returns how many were new. */
export type LedgerInsert = (rows: readonly LedgerRow[], foldRollups: boolean) => number;

/** Rows shipped from before guardrails existed carry no guards column value; its default is `[]`. */
const GUARDS_INDEX = LEDGER_COLUMNS.indexOf('guards');

/**
 * The ledger's insert as one IMMEDIATE transaction over one prepared statement, folding the new
 * rows into the usage rollups when asked and every earlier row is folded (SqliteShippedFold).
 * IMMEDIATE takes the write lock from the start, so the fold's reading of the watermark and the
 * highest seq cannot be overtaken by another connection's insert. Shared by the inline writer
 * (in-memory databases) and the writer thread (files).
 */
export function prepareLedgerInsert(file: BetterSqlite3.Database): LedgerInsert {
  const insert = file.prepare<[Value[]]>(
    `insert into requests (${LEDGER_COLUMNS.join(', ')}) values (${LEDGER_COLUMNS.map(() => '?').join(', ')}) on conflict (request_id) do nothing`,
  );
  const values: Value[] = new Array<Value>(LEDGER_COLUMNS.length);
  const rollups = new SqliteShippedFold(file);
  const insertAll = file.transaction((rows: readonly LedgerRow[], foldRollups: boolean) => {
    const fold = foldRollups && rollups.caughtUp();
    const inserted: LedgerRow[] = [];
    for (const row of rows) {
      for (let i = 0; i < LEDGER_COLUMNS.length; i += 1) values[i] = row[LEDGER_COLUMNS[i] as keyof LedgerRow] ?? null;
      values[GUARDS_INDEX] ??= '[]';
      // A request id already stored is skipped, and so not folded again.
      if (insert.run(values).changes === 1) inserted.push(row);
    }
    if (fold) rollups.fold(inserted);
    return inserted.length;
  });
  return (rows, foldRollups) => insertAll.immediate(rows, foldRollups);
}
