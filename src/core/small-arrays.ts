/**
 * A copy of `list` with `item` appended, exactly as long as it needs to be. For per-request lists
 * that hold one to three entries for the request's whole life (hooks, listeners, attempts): a
 * `push` onto `[]` gives V8's array a 17-slot backing store, about 140 bytes per list of unused
 * slots in every open stream (heap snapshot, 2,000 open streams). Quadratic, so only for short lists.
 */
export function appended<T>(list: readonly T[] | undefined, item: T): T[] {
  // Literals and `concat` size their result exactly; `slice` + `push` and `[...list, item]` give 19 slots.
  if (list === undefined || list.length === 0) return [item];
  if (list.length === 1) return [list[0] as T, item];
  if (list.length === 2) return [list[0] as T, list[1] as T, item];
  return list.concat([item]);
}
