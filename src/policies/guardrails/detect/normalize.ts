import { FOLDABLE_RE, foldConfusable } from './confusables.js';

/**
 * Characters removed before matching: soft hyphen, zero-width space/joiners, bidi marks, embeddings,
 * overrides and isolates, word joiner and invisible operators, variation selectors, BOM, interlinear
 * annotation, Mongolian vowel separator, and the Unicode tag block (U+E0000-E007F, "ASCII smuggling").
 */
export const INVISIBLE_RE = /[\u00AD\u034F\u061C\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFE00-\uFE0F\uFEFF\uFFF9-\uFFFB]|\uDB40[\uDC00-\uDDEF]/g;
const MARK = /^\p{M}$/u;

/**
 * Maps offsets in normalized text back to the text it came from. Stored as segments: runs copied
 * unchanged (offsets shift by a constant) and clusters that changed (each of their normalized units
 * maps to the whole original cluster), so mostly-ASCII text costs a few entries, not one per character.
 */
export class OffsetMap {
  /**
   * @param identity normalized and original text are the same string (the segment arrays are empty)
   * @param normStarts normalized start of each segment (ascending, first 0)
   * @param origStarts original start of each segment
   * @param origEnds original end of a changed cluster, or -1 for a copied run
   * @param normLength length of the normalized text
   * @param originalLength length of the original text
   */
  constructor(
    readonly identity: boolean,
    private readonly normStarts: readonly number[],
    private readonly origStarts: readonly number[],
    private readonly origEnds: readonly number[],
    private readonly normLength: number,
    private readonly originalLength: number,
  ) {}

  /** Original offset where the normalized unit at `offset` comes from (the original length at the end). */
  toOriginal(offset: number): number {
    return this.unitStart(offset);
  }

  /** The original range covering normalized [start, end): invisible characters inside it included. */
  range(start: number, end: number): [number, number] {
    const from = this.unitStart(start);
    return [from, end > start ? this.unitEnd(end - 1) : from];
  }

  private unitStart(offset: number): number {
    if (this.identity) return offset;
    const segment = this.segmentOf(offset);
    if (segment < 0) return this.originalLength;
    const clusterEnd = this.origEnds[segment] as number;
    const origStart = this.origStarts[segment] as number;
    return clusterEnd >= 0 ? origStart : origStart + offset - (this.normStarts[segment] as number);
  }

  private unitEnd(offset: number): number {
    if (this.identity) return offset + 1;
    const segment = this.segmentOf(offset);
    if (segment < 0) return this.originalLength;
    const clusterEnd = this.origEnds[segment] as number;
    return clusterEnd >= 0 ? clusterEnd : (this.origStarts[segment] as number) + offset - (this.normStarts[segment] as number) + 1;
  }

  /** Index of the segment holding normalized `offset`, or -1 past the end. */
  private segmentOf(offset: number): number {
    let low = 0;
    let high = this.normStarts.length - 1;
    if (offset >= this.normLength) return -1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.normStarts[mid] as number) <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

/** Normalized text and the map back to the original. */
export interface NormalizedText {
  text: string;
  map: OffsetMap;
}

const NON_ASCII_G = /[^\x00-\x7F]+/g;
const INVISIBLE_ONE = new RegExp(INVISIBLE_RE.source);
// Normalized forms of single non-ASCII code points seen so far (bounded): most texts repeat a few accents.
const SINGLE_CACHE = new Map<string, string>();
const CACHE_LIMIT = 4096;

function identity(text: string): NormalizedText {
  return { text, map: new OffsetMap(true, [], [], [], text.length, text.length) };
}

/**
 * NFKC, invisible and bidi control characters removed, and the small confusables fold
 * (see confusables.ts). NFKC is applied per cluster (a code point and its combining marks), which
 * equals whole-string NFKC except for rare cross-cluster compositions (conjoining Hangul jamo); that
 * keeps an exact offset map. ASCII or already-normalized input is returned as is (fast path).
 */
export function normalize(text: string): NormalizedText {
  NON_ASCII_G.lastIndex = 0;
  let match = NON_ASCII_G.exec(text);
  if (match === null) return identity(text);
  // Most non-English text is NFKC already and has nothing to remove or fold: nothing changes.
  if (!FOLDABLE_RE.test(text) && !INVISIBLE_ONE.test(text) && text.normalize('NFKC') === text) return identity(text);
  const out = new Builder();
  const length = text.length;
  let cursor = 0;
  while (match !== null) {
    let from = match.index;
    const runEnd = from + match[0].length;
    // A combining mark joins the ASCII base before it.
    if (from > cursor && isMark(text, from)) from -= 1;
    if (from > cursor) out.copy(text, cursor, from);
    const run = text.slice(from, runEnd);
    // Longer non-ASCII runs (CJK, Cyrillic words) are mostly NFKC already: copy them whole.
    // Short ones (an accent in a Latin word) go through the per-cluster cache.
    if (run.length > 2 && !FOLDABLE_RE.test(run) && !INVISIBLE_ONE.test(run) && run.normalize('NFKC') === run) {
      out.copy(text, from, runEnd);
    } else {
      let at = from;
      while (at < runEnd) {
        let to = at + codePointSize(text, at);
        while (to < length && text.charCodeAt(to) >= 0x300 && isMark(text, to)) to += codePointSize(text, to);
        const cluster = text.slice(at, to);
        const normalized = normalizeCluster(cluster);
        if (normalized === cluster) out.copy(text, at, to);
        else out.cluster(at, to, normalized);
        at = to;
      }
    }
    cursor = runEnd;
    NON_ASCII_G.lastIndex = cursor;
    match = NON_ASCII_G.exec(text);
  }
  if (cursor < length) out.copy(text, cursor, length);
  return out.finish(length);
}

function normalizeCluster(cluster: string): string {
  const cached = SINGLE_CACHE.get(cluster);
  if (cached !== undefined) return cached;
  const nfkc = cluster.normalize('NFKC').replace(INVISIBLE_RE, '');
  let folded = '';
  for (let k = 0; k < nfkc.length; k += 1) folded += foldConfusable(nfkc.charCodeAt(k)) ?? nfkc.charAt(k);
  if (cluster.length <= 2 && SINGLE_CACHE.size < CACHE_LIMIT) SINGLE_CACHE.set(cluster, folded);
  return folded;
}

/** Accumulates normalized text and its segments. */
class Builder {
  private readonly parts: string[] = [];
  private readonly normStarts: number[] = [];
  private readonly origStarts: number[] = [];
  private readonly origEnds: number[] = [];
  private size = 0;

  /** Appends `text[from, to)` unchanged, extending the previous copied run when it is adjacent. */
  copy(text: string, from: number, to: number): void {
    this.parts.push(text.slice(from, to));
    const last = this.normStarts.length - 1;
    const adjacent = last >= 0 && this.origEnds[last] === -1 && (this.origStarts[last] as number) + this.size - (this.normStarts[last] as number) === from;
    if (!adjacent) this.segment(from, -1);
    this.size += to - from;
  }

  /** Appends the normalized form of the original cluster `[from, to)` (nothing when it normalizes away). */
  cluster(from: number, to: number, normalized: string): void {
    if (normalized === '') return;
    this.parts.push(normalized);
    this.segment(from, to);
    this.size += normalized.length;
  }

  finish(originalLength: number): NormalizedText {
    return { text: this.parts.join(''), map: new OffsetMap(false, this.normStarts, this.origStarts, this.origEnds, this.size, originalLength) };
  }

  private segment(origStart: number, origEnd: number): void {
    this.normStarts.push(this.size);
    this.origStarts.push(origStart);
    this.origEnds.push(origEnd);
  }
}

function isMark(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= 0x300 && MARK.test(String.fromCodePoint(text.codePointAt(index) ?? 0));
}

function codePointSize(text: string, index: number): number {
  const code = text.charCodeAt(index);
  if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
    const low = text.charCodeAt(index + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return 2;
  }
  return 1;
}
