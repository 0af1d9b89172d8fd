/**
 * Remembers the token counts of recently seen prompt texts. Chat clients resend the whole
 * conversation on every turn and most apps repeat one system prompt, so most message texts of a
 * request were counted before; a lookup costs a string hash, a count costs a BPE pass.
 *
 * Two generations bound the memory by characters held: when the young one is full it becomes the
 * old one and the previous old one is dropped, so a text used again survives one turnover.
 */
export class TokenCountCache {
  private young = new Map<string, number>();
  private old = new Map<string, number>();
  private youngChars = 0;

  constructor(
    private readonly count: (text: string) => number,
    /** Characters of text kept per generation (so at most twice this is held). */
    private readonly charsPerGeneration: number,
    /** Texts shorter than this are counted directly: a cache entry would cost more than the count. */
    private readonly minLength = 24,
  ) {}

  tokens(text: string): number {
    if (text.length < this.minLength || text.length > this.charsPerGeneration / 16) return this.count(text);
    const recent = this.young.get(text);
    if (recent !== undefined) return recent;
    const older = this.old.get(text);
    const tokens = older ?? this.count(text);
    this.remember(text, tokens);
    return tokens;
  }

  private remember(text: string, tokens: number): void {
    if (this.youngChars + text.length > this.charsPerGeneration) {
      this.old = this.young;
      this.young = new Map();
      this.youngChars = 0;
    }
    this.young.set(text, tokens);
    this.youngChars += text.length;
  }
}
