import type { BpeVocabulary } from './bpe-vocabulary.js';

/**
 * Byte-pair merging of one piece, as tiktoken defines it: start from single bytes and, while any
 * two neighbouring parts form a token, merge the pair with the lowest rank (the leftmost on a
 * tie). Returns the number of tokens and appends them to `out` when given.
 *
 * Short pieces (nearly all of them) scan the pairs for the lowest rank each round, as tiktoken
 * does. That is quadratic in the piece's length, and one piece can be a whole prompt (a long run
 * of letters or punctuation with no space): 30 KB took about 0.4 s, and a body at the size limit
 * would hold the event loop for minutes. Longer pieces keep the pairs in a min-heap instead, which
 * picks the same pair each round in O(log n).
 */
export function mergeBytePairs(vocabulary: BpeVocabulary, bytes: Uint8Array, length: number, out: number[] | undefined): number {
  if (length === 1) {
    out?.push(vocabulary.rankOf(bytes, 0, 1));
    return 1;
  }
  return length <= SCAN_LIMIT ? mergeByScan(vocabulary, bytes, length, out) : mergeByHeap(vocabulary, bytes, length, out);
}

/** Up to this many bytes, a linear scan per round beats the heap's bookkeeping. */
export const SCAN_LIMIT = 64;
const NONE = 0x7fffffff;

let starts = new Int32Array(SCAN_LIMIT + 1);
let ranks = new Int32Array(SCAN_LIMIT + 1);

/** tiktoken's loop: `starts[i]` begins part i; `ranks[i]` is the rank of parts i and i + 1 merged. */
export function mergeByScan(vocabulary: BpeVocabulary, bytes: Uint8Array, length: number, out: number[] | undefined): number {
  if (starts.length < length + 1) {
    starts = new Int32Array(length + 1);
    ranks = new Int32Array(length + 1);
  }
  let parts = length + 1; // the last entry only marks the end
  for (let at = 0; at <= length; at += 1) {
    starts[at] = at;
    ranks[at] = at + 2 <= length ? pairOrNone(vocabulary, bytes, at) : NONE;
  }
  for (;;) {
    let lowest = NONE;
    let index = -1;
    for (let at = 0; at < parts - 1; at += 1) {
      if ((ranks[at] as number) < lowest) {
        lowest = ranks[at] as number;
        index = at;
      }
    }
    if (index === -1) break;
    // Part `index` absorbs part `index + 1`: its pairs with both neighbours change.
    if (index > 0) ranks[index - 1] = pairRank(vocabulary, bytes, index - 1, 3, parts);
    ranks[index] = pairRank(vocabulary, bytes, index, 3, parts);
    parts -= 1;
    for (let at = index + 1; at < parts; at += 1) {
      starts[at] = starts[at + 1] as number;
      ranks[at] = ranks[at + 1] as number;
    }
  }
  if (out !== undefined) {
    for (let at = 0; at < parts - 1; at += 1) out.push(vocabulary.rankOf(bytes, starts[at] as number, starts[at + 1] as number));
  }
  return parts - 1;
}

/** The rank of the bytes from part `index` up to part `index + span`, before the merge is applied. */
function pairRank(vocabulary: BpeVocabulary, bytes: Uint8Array, index: number, span: number, parts: number): number {
  return index + span < parts ? rankOrNone(vocabulary, bytes, starts[index] as number, starts[index + span] as number) : NONE;
}

function pairOrNone(vocabulary: BpeVocabulary, bytes: Uint8Array, start: number): number {
  const rank = vocabulary.pairRankAt(bytes, start);
  return rank === -1 ? NONE : rank;
}

function rankOrNone(vocabulary: BpeVocabulary, bytes: Uint8Array, start: number, end: number): number {
  const rank = vocabulary.rankOf(bytes, start, end);
  return rank === -1 ? NONE : rank;
}

interface HeapWork {
  next: Int32Array;
  previous: Int32Array;
  pairRanks: Int32Array;
  heap: Float64Array;
}

/**
 * Work arrays are kept between calls up to this piece length (about 100 KB in all); a longer piece
 * gets its own, freed with it, so one huge prompt does not leave megabytes behind.
 */
const KEPT_HEAP_LENGTH = 4_096;
let keptWork: HeapWork | undefined;

function heapWork(length: number): HeapWork {
  return length <= KEPT_HEAP_LENGTH ? (keptWork ??= newHeapWork(KEPT_HEAP_LENGTH)) : newHeapWork(length);
}

function newHeapWork(length: number): HeapWork {
  return { next: new Int32Array(length + 1), previous: new Int32Array(length + 1), pairRanks: new Int32Array(length + 1), heap: new Float64Array(3 * length + 1) };
}

/**
 * The same merge order with a heap. Parts form a linked list over their start offsets (`next`,
 * `previous`; a merged-away part gets next = -1). Heap keys are rank * 2^32 + start, so the lowest
 * rank and then the leftmost pair comes first. A popped pair is stale unless its part is alive and
 * still has that rank: a part's pair only ever grows rightwards, so its rank never repeats.
 */
export function mergeByHeap(vocabulary: BpeVocabulary, bytes: Uint8Array, length: number, out: number[] | undefined): number {
  const { next, previous, pairRanks, heap } = heapWork(length);
  let heapSize = 0;
  const push = (key: number): void => {
    let at = heapSize++;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if ((heap[parent] as number) <= key) break;
      heap[at] = heap[parent] as number;
      at = parent;
    }
    heap[at] = key;
  };
  const pop = (): number => {
    const top = heap[0] as number;
    const last = heap[--heapSize] as number;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && (heap[child + 1] as number) < (heap[child] as number)) child += 1;
      if ((heap[child] as number) >= last) break;
      heap[at] = heap[child] as number;
      at = child;
    }
    heap[at] = last;
    return top;
  };
  const rankFrom = (start: number): number => {
    const middle = next[start] as number;
    if (middle >= length) return NONE;
    return rankOrNone(vocabulary, bytes, start, next[middle] as number);
  };

  for (let at = 0; at <= length; at += 1) {
    next[at] = at + 1;
    previous[at] = at - 1;
  }
  for (let at = 0; at < length; at += 1) {
    const rank = at + 2 <= length ? pairOrNone(vocabulary, bytes, at) : NONE;
    pairRanks[at] = rank;
    if (rank !== NONE) push(rank * 2 ** 32 + at);
  }
  let parts = length;
  while (heapSize > 0) {
    const key = pop();
    const start = key % 2 ** 32;
    const rank = (key - start) / 2 ** 32;
    if (next[start] === -1 || pairRanks[start] !== rank) continue;
    const absorbed = next[start] as number;
    const after = next[absorbed] as number;
    next[start] = after;
    if (after <= length) previous[after] = start;
    next[absorbed] = -1;
    parts -= 1;
    const own = rankFrom(start);
    pairRanks[start] = own;
    if (own !== NONE) push(own * 2 ** 32 + start);
    const before = previous[start] as number;
    if (before >= 0) {
      const left = rankFrom(before);
      pairRanks[before] = left;
      if (left !== NONE) push(left * 2 ** 32 + before);
    }
  }
  if (out !== undefined) {
    for (let at = 0; at < length; at = next[at] as number) out.push(vocabulary.rankOf(bytes, at, next[at] as number));
  }
  return parts;
}
