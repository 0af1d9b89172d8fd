import type { BpeVocabulary } from './bpe-vocabulary.js';
import { mergeBytePairs } from './bpe-merge.js';

/** The parts of a tokenizer the gateway uses: counting prompt and reply text, and the mock's replies. */
export interface TokenEncoding {
  countTokens(text: string): number;
  encode(text: string): number[];
  decode(tokens: number[]): string;
}

const utf8 = new TextEncoder();
/** The scratch buffer's usual size: pieces are words, numbers and runs of punctuation or spaces. */
const KEPT_SCRATCH_BYTES = 4_096;
/** Keeps a leading byte order mark: it is part of the text (TextDecoder drops it by default). */
const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * tiktoken's algorithm: split the text with the encoding's pattern, then byte-pair merge each
 * piece that is not one token already. All text is ordinary text: a prompt that contains
 * `<|endoftext|>` counts as those characters (special tokens are never produced), as providers
 * count user content.
 */
export class BpeEncoder implements TokenEncoding {
  /** The current piece's UTF-8 bytes. Encoding is synchronous, so one buffer serves every call. */
  private scratch = new Uint8Array(KEPT_SCRATCH_BYTES);
  private readonly split: RegExp;

  constructor(
    private readonly vocabulary: BpeVocabulary,
    splitPattern: RegExp,
  ) {
    this.split = new RegExp(splitPattern.source, 'gu');
    const byte = new Uint8Array(1);
    for (let value = 0; value < 256; value += 1) {
      byte[0] = value;
      // Merging starts from single bytes, so every byte must be a token for every text to encode.
      if (vocabulary.rankOf(byte, 0, 1) === -1) throw new Error(`The vocabulary has no token for byte ${value}.`);
    }
  }

  countTokens(text: string): number {
    return this.run(text, undefined);
  }

  encode(text: string): number[] {
    const tokens: number[] = [];
    this.run(text, tokens);
    return tokens;
  }

  decode(tokens: number[]): string {
    let length = 0;
    for (const token of tokens) {
      const bytes = this.vocabulary.bytesOf(token);
      if (bytes === undefined) throw new Error(`Token ${token} is not in the vocabulary.`);
      length += bytes.length;
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const token of tokens) {
      const bytes = this.vocabulary.bytesOf(token) as Uint8Array;
      out.set(bytes, at);
      at += bytes.length;
    }
    return utf8Decoder.decode(out);
  }

  /** Counts the text's tokens, and appends them to `out` when given. */
  private run(text: string, out: number[] | undefined): number {
    if (text.length === 0) return 0;
    const split = this.split;
    split.lastIndex = 0;
    let count = 0;
    for (let match = split.exec(text); match !== null; match = split.exec(text)) {
      const length = this.pieceBytes(match[0]);
      const whole = this.vocabulary.rankOf(this.scratch, 0, length);
      if (whole !== -1) {
        out?.push(whole);
        count += 1;
      } else count += mergeBytePairs(this.vocabulary, this.scratch, length, out);
    }
    return count;
  }

  /**
   * Writes the piece's UTF-8 into the scratch buffer (a lone surrogate as U+FFFD, as TextEncoder
   * does). The buffer grows for a long piece and goes back to its usual size for the next one,
   * so one huge prompt does not leave megabytes behind.
   */
  private pieceBytes(piece: string): number {
    const needed = piece.length * 3;
    if (this.scratch.length < needed || (this.scratch.length > KEPT_SCRATCH_BYTES && needed <= KEPT_SCRATCH_BYTES)) {
      this.scratch = new Uint8Array(Math.max(needed, KEPT_SCRATCH_BYTES));
    }
    const scratch = this.scratch;
    for (let at = 0; at < piece.length; at += 1) {
      const code = piece.charCodeAt(at);
      if (code >= 0x80) return utf8.encodeInto(piece, scratch).written;
      scratch[at] = code;
    }
    return piece.length;
  }
}
