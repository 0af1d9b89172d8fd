import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { GptEncoding } from 'gpt-tokenizer/GptEncoding';

/** The parts of gpt-tokenizer's encoding API the gateway uses. */
export interface TokenEncoding {
  countTokens(text: string): number;
  encode(text: string): number[];
  decode(tokens: number[]): string;
}

/** The rank table shipped with gpt-tokenizer, in tiktoken's own format: `<base64 token> <rank>` per line. */
const RANKS_FILE = 'gpt-tokenizer/data/o200k_base.tiktoken';

/**
 * Builds the o200k_base encoding from the library's `.tiktoken` data file instead of importing
 * `gpt-tokenizer/encoding/o200k_base`. Same library, same ranks (a test compares the tables entry
 * by entry), but the JS module holds its 200,000 tokens as a 2.4 MB array literal: V8 keeps the
 * module's source text and its parse leaves more memory behind. Measured on Node 20, 4 s after
 * loading: about 14 MB less RSS (82 against 96 MB for a bare process), about 5 MB less heap once
 * collected, and a little faster (0.34-0.40 s against 0.39-0.50 s).
 */
export function loadO200kEncoding(): TokenEncoding {
  const path = createRequire(import.meta.url).resolve(RANKS_FILE);
  const ranks = parseTiktokenRanks(readFileSync(path));
  return GptEncoding.getEncodingApi('o200k_base', () => ranks);
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BASE64_VALUE = new Int8Array(256).fill(-1);
for (let i = 0; i < BASE64.length; i += 1) BASE64_VALUE[BASE64.charCodeAt(i)] = i;
const SPACE = 0x20;
const NEWLINE = 0x0a;

/**
 * Ranks as gpt-tokenizer holds them: a token that is valid UTF-8 as its string, any other as its
 * bytes. Tokens starting with a byte order mark stay bytes too (decoding would drop the mark),
 * as in the library's generated table. Decodes base64 by hand into one scratch buffer and makes
 * nothing per line but the token itself: the load's garbage is collected later, at the cost of a
 * full collection on a heap that has just grown.
 */
export function parseTiktokenRanks(data: Uint8Array): Array<string | number[]> {
  const ranks: Array<string | number[]> = [];
  const scratch = Buffer.allocUnsafe(1024);
  let at = 0;
  while (at < data.length) {
    let length = 0;
    let bits = 0;
    let buffered = 0;
    for (; at < data.length && data[at] !== SPACE; at += 1) {
      const value = BASE64_VALUE[data[at] as number] as number;
      if (value < 0) continue; // '=' padding
      bits = ((bits << 6) | value) & 0xffffff;
      buffered += 6;
      if (buffered >= 8) {
        buffered -= 8;
        scratch[length++] = (bits >> buffered) & 0xff;
      }
    }
    let rank = 0;
    for (at += 1; at < data.length && data[at] !== NEWLINE; at += 1) rank = rank * 10 + ((data[at] as number) - 48);
    at += 1;
    if (length === 0) continue;
    ranks[rank] = !startsWithByteOrderMark(scratch, length) && isWellFormedUtf8(scratch, length) ? scratch.toString('utf8', 0, length) : bytesOf(scratch, length);
  }
  return ranks;
}

function startsWithByteOrderMark(bytes: Uint8Array, length: number): boolean {
  return length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}

function bytesOf(bytes: Uint8Array, length: number): number[] {
  const out = new Array<number>(length);
  for (let i = 0; i < length; i += 1) out[i] = bytes[i] as number;
  return out;
}

/** Well-formed UTF-8 as TextDecoder's fatal mode (and the library) define it: no overlongs, surrogates or values past U+10FFFF. */
export function isWellFormedUtf8(bytes: Uint8Array, length: number): boolean {
  let i = 0;
  while (i < length) {
    const first = bytes[i] as number;
    if (first < 0x80) {
      i += 1;
      continue;
    }
    let extra = 0;
    let min = 0;
    let code = 0;
    if (first >= 0xc2 && first <= 0xdf) {
      extra = 1;
      min = 0x80;
      code = first & 0x1f;
    } else if (first >= 0xe0 && first <= 0xef) {
      extra = 2;
      min = 0x800;
      code = first & 0x0f;
    } else if (first >= 0xf0 && first <= 0xf4) {
      extra = 3;
      min = 0x10000;
      code = first & 0x07;
    } else return false;
    if (i + extra >= length) return false;
    for (let j = 1; j <= extra; j += 1) {
      const next = bytes[i + j] as number;
      if ((next & 0xc0) !== 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}
