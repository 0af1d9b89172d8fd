import type { GroupColumn, RollupSetName } from './types.js';

/** One dimension set kept in the rollups: its columns land in d0..d4 of `usage_rollups`, in order. */
export interface RollupSet {
  name: RollupSetName;
  columns: readonly GroupColumn[];
}

/**
 * The dimension sets kept per hour and per day. The team is in every set, so a team-admin's
 * answer (filtered to its team) comes from the rollups too. Ordered from fewest rows to most: a
 * query uses the first set that holds all its columns. Conversations are not kept (one group per
 * conversation would be about as many rows as the ledger itself); they are read raw.
 */
export const ROLLUP_SETS: readonly RollupSet[] = [
  { name: 'team', columns: ['team_name'] },
  { name: 'model', columns: ['team_name', 'requested_model'] },
  { name: 'template', columns: ['team_name', 'template_id', 'template_version'] },
  { name: 'customer', columns: ['team_name', 'customer'] },
  { name: 'key', columns: ['team_name', 'key_prefix', 'key_name', 'user_name'] },
  { name: 'serving', columns: ['team_name', 'requested_model', 'provider', 'served_model', 'endpoint'] },
];

/** d0..d4: the widest set has five columns. */
export const ROLLUP_DIMENSION_COLUMNS = ['d0', 'd1', 'd2', 'd3', 'd4'] as const;
export type RollupDimensionColumn = (typeof ROLLUP_DIMENSION_COLUMNS)[number];

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** The first (smallest) set holding every column, or undefined when only raw rows can answer. */
export function coveringSet(columns: Iterable<GroupColumn>): RollupSet | undefined {
  const needed = [...new Set(columns)];
  return ROLLUP_SETS.find((set) => needed.every((column) => set.columns.includes(column)));
}

/** Where a ledger column sits in a set's rollup rows (d0..d4). */
export function rollupColumnOf(set: RollupSet, column: GroupColumn): RollupDimensionColumn {
  const index = set.columns.indexOf(column);
  if (index < 0) throw new Error(`rollup set ${set.name} has no column ${column}`);
  return ROLLUP_DIMENSION_COLUMNS[index] as RollupDimensionColumn;
}

export function rollupSet(name: RollupSetName): RollupSet {
  const set = ROLLUP_SETS.find((candidate) => candidate.name === name);
  if (!set) throw new Error(`unknown rollup set ${name}`);
  return set;
}
