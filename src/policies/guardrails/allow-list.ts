/**
 * Values exempt from the entity guards: a found value that one of these patterns matches whole
 * (case-insensitive) is left alone, on input and output alike.
 */
export class AllowList {
  private readonly patterns: RegExp[];

  constructor(sources: readonly string[]) {
    this.patterns = sources.map((source) => new RegExp(`^(?:${source})$`, 'iu'));
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  allows(value: string): boolean {
    return this.patterns.some((pattern) => pattern.test(value));
  }
}
