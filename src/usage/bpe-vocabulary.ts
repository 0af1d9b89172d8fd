/**
 * A byte-pair vocabulary held in three typed arrays instead of a JS Map of 200,000 strings: every
 * token's bytes back to back, where each token starts, and an open-addressing hash table from
 * bytes to rank. For o200k_base that is about 5 MB outside the JS heap, against about 16 MB of
 * live heap (and about 30 MB of RSS) for gpt-tokenizer's maps; the garbage collector never walks it.
 */
export class BpeVocabulary {
  /** Hash slots hold rank + 1; 0 is an empty slot. */
  private readonly slots: Int32Array;
  private readonly slotMask: number;
  /** Two-byte tokens by `first << 8 | second` (rank + 1, or 0): merging starts with every such pair. */
  private readonly pairs = new Int32Array(65_536);

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly starts: Uint32Array,
    readonly size: number,
  ) {
    // At most half full, so a miss ends after a probe or two.
    let capacity = 1;
    while (capacity < size * 2) capacity *= 2;
    this.slots = new Int32Array(capacity);
    this.slotMask = capacity - 1;
    for (let rank = 0; rank < size; rank += 1) {
      const start = starts[rank] as number;
      const end = starts[rank + 1] as number;
      if (end === start) continue; // a hole in the rank numbering
      if (this.rankOf(bytes, start, end) !== -1) throw new Error(`Rank table lists the same bytes twice (rank ${rank}).`);
      let slot = hashBytes(bytes, start, end) & this.slotMask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.slotMask;
      this.slots[slot] = rank + 1;
      if (end - start === 2) this.pairs[((bytes[start] as number) << 8) | (bytes[start + 1] as number)] = rank + 1;
    }
  }

  /**
   * Reads tiktoken's rank file format: one `<base64 bytes> <rank>` per line. Ranks need not be
   * contiguous; a missing rank decodes to nothing and is never produced.
   */
  static fromTiktoken(data: Uint8Array): BpeVocabulary {
    const lines = scanLines(data);
    let size = 0;
    for (let line = 0; line < lines.count; line += 1) size = Math.max(size, (lines.ranks[line] as number) + 1);
    const lengths = new Uint32Array(size);
    for (let line = 0; line < lines.count; line += 1) {
      const rank = lines.ranks[line] as number;
      if (lengths[rank] !== 0) throw new Error(`Rank file lists rank ${rank} twice.`);
      lengths[rank] = lines.lengths[line] as number;
    }
    const starts = new Uint32Array(size + 1);
    for (let rank = 0; rank < size; rank += 1) starts[rank + 1] = (starts[rank] as number) + (lengths[rank] as number);
    const bytes = new Uint8Array(starts[size] as number);
    for (let line = 0; line < lines.count; line += 1) {
      decodeBase64Into(data, lines.textStarts[line] as number, lines.textEnds[line] as number, bytes, starts[lines.ranks[line] as number] as number);
    }
    return new BpeVocabulary(bytes, starts, size);
  }

  /** The rank of `source[start, end)` as one token, or -1. */
  rankOf(source: Uint8Array, start: number, end: number): number {
    const length = end - start;
    let slot = hashBytes(source, start, end) & this.slotMask;
    for (;;) {
      const entry = this.slots[slot] as number;
      if (entry === 0) return -1;
      const rank = entry - 1;
      const tokenStart = this.starts[rank] as number;
      if ((this.starts[rank + 1] as number) - tokenStart === length && sameBytes(this.bytes, tokenStart, source, start, length)) return rank;
      slot = (slot + 1) & this.slotMask;
    }
  }

  /** The rank of the two bytes at `source[start]` as one token, or -1. */
  pairRankAt(source: Uint8Array, start: number): number {
    return (this.pairs[((source[start] as number) << 8) | (source[start + 1] as number)] as number) - 1;
  }

  /** The bytes of `rank` (a view, not a copy), or undefined for a rank the table does not hold. */
  bytesOf(rank: number): Uint8Array | undefined {
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.size) return undefined;
    const start = this.starts[rank] as number;
    const end = this.starts[rank + 1] as number;
    return end > start ? this.bytes.subarray(start, end) : undefined;
  }
}

/** FNV-1a over bytes: cheap, and spreads tokens that share prefixes well enough for linear probing. */
function hashBytes(source: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let at = start; at < end; at += 1) hash = Math.imul(hash ^ (source[at] as number), 0x01000193);
  return hash >>> 0;
}

function sameBytes(a: Uint8Array, aStart: number, b: Uint8Array, bStart: number, length: number): boolean {
  for (let offset = 0; offset < length; offset += 1) if (a[aStart + offset] !== b[bStart + offset]) return false;
  return true;
}

const BASE64_VALUE = new Int8Array(256).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split('').forEach((char, value) => (BASE64_VALUE[char.charCodeAt(0)] = value));
const SPACE = 0x20;
const NEWLINE = 0x0a;
const PAD = 0x3d;

interface RankLines {
  count: number;
  ranks: Uint32Array;
  lengths: Uint32Array;
  textStarts: Uint32Array;
  textEnds: Uint32Array;
}

/** One pass over the file for each line's rank, base64 span and decoded length. */
function scanLines(data: Uint8Array): RankLines {
  let capacity = 0;
  for (const byte of data) if (byte === NEWLINE) capacity += 1;
  capacity += 1;
  const lines: RankLines = { count: 0, ranks: new Uint32Array(capacity), lengths: new Uint32Array(capacity), textStarts: new Uint32Array(capacity), textEnds: new Uint32Array(capacity) };
  let at = 0;
  while (at < data.length) {
    const textStart = at;
    while (at < data.length && data[at] !== SPACE && data[at] !== NEWLINE) at += 1;
    const textEnd = at;
    if (at >= data.length || data[at] !== SPACE) {
      if (textEnd > textStart && data[textStart] !== 0x0d) throw new Error(`Rank file line ${lines.count + 1} has no rank.`);
      at += 1;
      continue; // a blank line
    }
    let rank = 0;
    let digits = 0;
    for (at += 1; at < data.length && data[at] !== NEWLINE && data[at] !== 0x0d; at += 1, digits += 1) {
      const digit = (data[at] as number) - 48;
      if (digit < 0 || digit > 9) throw new Error(`Rank file line ${lines.count + 1} has a rank that is not a number.`);
      rank = rank * 10 + digit;
    }
    while (at < data.length && data[at] !== NEWLINE) at += 1;
    at += 1;
    const length = decodedLength(data, textStart, textEnd);
    if (digits === 0 || length <= 0) throw new Error(`Rank file line ${lines.count + 1} is not "<base64> <rank>".`);
    lines.ranks[lines.count] = rank;
    lines.lengths[lines.count] = length;
    lines.textStarts[lines.count] = textStart;
    lines.textEnds[lines.count] = textEnd;
    lines.count += 1;
  }
  return lines;
}

function decodedLength(data: Uint8Array, start: number, end: number): number {
  let symbols = 0;
  for (let at = start; at < end; at += 1) {
    const byte = data[at] as number;
    if (byte === PAD) continue;
    if ((BASE64_VALUE[byte] as number) < 0) return -1;
    symbols += 1;
  }
  return Math.floor((symbols * 6) / 8);
}

function decodeBase64Into(data: Uint8Array, start: number, end: number, out: Uint8Array, outStart: number): void {
  let bits = 0;
  let buffered = 0;
  let written = outStart;
  for (let at = start; at < end; at += 1) {
    const value = BASE64_VALUE[data[at] as number] as number;
    if (value < 0) continue; // '=' padding
    bits = ((bits << 6) | value) & 0xffffff;
    buffered += 6;
    if (buffered >= 8) {
      buffered -= 8;
      out[written++] = (bits >> buffered) & 0xff;
    }
  }
}
