import type { Config } from './schema.js';

/**
 * Settings read only at start (the listener's address, the record store, the limit counters'
 * backend): a reload keeps their running values and names them in a warning.
 */
export const RESTART_ONLY_SETTINGS: ReadonlyArray<readonly [string, ...string[]]> = [
  ['server', 'host'],
  ['server', 'port'],
  ['store'],
  ['limits', 'backend'],
  ['limits', 'redis_url'],
  ['limits', 'redis_prefix'],
  ['limits', 'redis_timeout_ms'],
  ['limits', 'instances'],
  ['metrics', 'enabled'],
  ['metrics', 'process_metrics'],
  ['tracing'],
  ['audit'],
  ['ledger'],
];

export interface ReloadPlan {
  /** The config to run: the new one, with restart-only settings kept at their running values. */
  config: Config;
  /** What the new config changes, as key paths two levels deep (`models.fast`, `server.max_in_flight`); never values. */
  changed: string[];
  /** Restart-only settings the new config changes; they keep their running values until a restart. */
  needsRestart: string[];
}

type Tree = Record<string, unknown>;

/** Compares a reloaded config with the running one and keeps what cannot change without a restart. */
export function planReload(running: Config, next: Config): ReloadPlan {
  const needsRestart: string[] = [];
  let config = next as unknown as Tree;
  for (const path of RESTART_ONLY_SETTINGS) {
    const before = valueAt(running as unknown as Tree, path);
    if (JSON.stringify(before) === JSON.stringify(valueAt(config, path))) continue;
    needsRestart.push(path.join('.'));
    config = withValue(config, path, before);
  }
  return { config: config as unknown as Config, changed: changedPaths(running as unknown as Tree, config, '', 2), needsRestart };
}

function valueAt(tree: Tree, path: readonly string[]): unknown {
  let value: unknown = tree;
  for (const key of path) value = isTree(value) ? value[key] : undefined;
  return value;
}

/** A copy of `tree` with `value` at `path`; only the objects on the path are copied. */
function withValue(tree: Tree, path: readonly string[], value: unknown): Tree {
  const [key, ...rest] = path as [string, ...string[]];
  const child = tree[key];
  return { ...tree, [key]: rest.length === 0 ? value : withValue(isTree(child) ? child : {}, rest, value) };
}

function changedPaths(before: unknown, after: unknown, prefix: string, depth: number): string[] {
  if (depth === 0 || !isTree(before) || !isTree(after)) return JSON.stringify(before) === JSON.stringify(after) ? [] : [prefix];
  const out: string[] = [];
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    out.push(...changedPaths(before[key], after[key], prefix === '' ? key : `${prefix}.${key}`, depth - 1));
  }
  return out;
}

function isTree(value: unknown): value is Tree {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
