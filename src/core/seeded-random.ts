/**
 * A small deterministic random source for property tests (a linear congruential generator): the
 * same seed gives the same sequence on every run, so a failing variation can be replayed. For
 * tests only; never used by the gateway itself.
 */
export interface SeededRandom {
  /** A number in [0, 1). */
  next(): number;
  /** One of `values`, uniformly. */
  pick<T>(values: readonly T[]): T;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  return { next, pick: (values) => values[Math.floor(next() * values.length)] as (typeof values)[number] };
}
