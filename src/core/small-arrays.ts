/**
 * A copy of `list` with `item` appended, exactly as long as it needs to be. For per-request lists
 * that hold one to three entries for the request's whole life (hooks, listeners, attempts): a
 * `push` onto `[]` gives V8's array a 17-slot backing store, about 140 bytes per list of unused
 * slots in every open stream (heap snapshot, 2,000 open streams). Quadratic, so only for short lists.
 */
export function appended<T>(list: readonly T[] | undefined, item: T): T[] {
  // `concat` sizes its result exactly; `slice` + `push` and `[...list, item]` give 19 slots.
  return list === undefined || list.length === 0 ? [item] : list.concat([item]);
}
