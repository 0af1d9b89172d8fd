import type { Finding } from './types.js';

/** Where a value sits in the text `protect` is given: the source offsets of a `Finding`. */
export type VaultFinding = Pick<Finding, 'type' | 'sourceStart' | 'sourceEnd'>;

/** Options of `restore` and `RestoreStream`. */
export interface RestoreOptions {
  /** Escape restored values for a JSON string context (tool-call arguments), so the JSON stays valid. */
  json?: boolean;
}

const PLACEHOLDER_RE = /\[([A-Z][A-Z0-9_]*_\d+)\]/g;
const PARTIAL_RE = /^\[[A-Z0-9_]*$/;

/**
 * Reversible tokenization: `protect` swaps each finding for a placeholder such as `[EMAIL_1]`
 * (upper-case type, underscore, counter, in brackets: plain ASCII that survives JSON and that models
 * copy faithfully) and remembers the original; `restore` puts originals back. The same value gets the
 * same placeholder. A counter whose placeholder already occurs in the text being protected is skipped,
 * so text that happens to contain `[EMAIL_1]` is never restored into something else.
 * One vault per request: it holds the values in memory only.
 */
export class PlaceholderVault {
  private readonly byValue = new Map<string, string>();
  private readonly byPlaceholder = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private longest = 0;

  /** Number of distinct values protected. */
  get size(): number {
    return this.byPlaceholder.size;
  }

  /** Length of the longest placeholder handed out (what a `RestoreStream` may hold back). */
  get maxPlaceholderLength(): number {
    return this.longest;
  }

  /** `text` with each finding (source offsets, non-overlapping) replaced by its placeholder. */
  protect(text: string, findings: readonly VaultFinding[]): string {
    const ordered = [...findings].sort((a, b) => a.sourceStart - b.sourceStart);
    let out = '';
    let cursor = 0;
    for (const finding of ordered) {
      if (finding.sourceStart < cursor) continue;
      out += text.slice(cursor, finding.sourceStart);
      out += this.placeholderFor(finding.type, text.slice(finding.sourceStart, finding.sourceEnd), text);
      cursor = finding.sourceEnd;
    }
    return out + text.slice(cursor);
  }

  /** The placeholder for `value` of entity `type`, created on first use; `context` is text it must not already occur in. */
  placeholderFor(type: string, value: string, context = ''): string {
    const key = `${type}\u0000${value}`;
    const known = this.byValue.get(key);
    if (known !== undefined) return known;
    const label = type.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^[^A-Z]+/, '') || 'VALUE';
    let counter = this.counters.get(label) ?? 0;
    let placeholder: string;
    do {
      counter += 1;
      placeholder = `[${label}_${counter}]`;
    } while (context.includes(placeholder) || this.byPlaceholder.has(placeholder));
    this.counters.set(label, counter);
    this.byValue.set(key, placeholder);
    this.byPlaceholder.set(placeholder, value);
    this.longest = Math.max(this.longest, placeholder.length);
    return placeholder;
  }

  /** `text` with every placeholder of this vault replaced by its original; unknown placeholders stay. */
  restore(text: string, options: RestoreOptions = {}): string {
    if (this.byPlaceholder.size === 0 || !text.includes('[')) return text;
    return text.replace(PLACEHOLDER_RE, (placeholder) => {
      const value = this.byPlaceholder.get(placeholder);
      if (value === undefined) return placeholder;
      return options.json === true ? JSON.stringify(value).slice(1, -1) : value;
    });
  }
}

/**
 * Restores placeholders in a stream of chunks. A `[` at the tail that may still become a placeholder
 * (upper-case letters, digits and underscores so far, no longer than the longest placeholder) is held
 * back until the next chunk decides it; nothing else is held.
 */
export class RestoreStream {
  private pending = '';

  constructor(
    private readonly vault: PlaceholderVault,
    private readonly options: RestoreOptions = {},
  ) {}

  /** Characters received but not yet emitted. */
  get heldBack(): number {
    return this.pending.length;
  }

  /** Adds a chunk; returns the restored text that is complete so far. */
  push(chunk: string): string {
    const text = this.pending + chunk;
    let cut = text.length;
    const open = text.lastIndexOf('[');
    if (open >= 0 && text.length - open < this.vault.maxPlaceholderLength && PARTIAL_RE.test(text.slice(open))) cut = open;
    this.pending = text.slice(cut);
    return this.vault.restore(text.slice(0, cut), this.options);
  }

  /** Ends the stream; returns what was held back. */
  end(): string {
    const rest = this.pending;
    this.pending = '';
    return this.vault.restore(rest, this.options);
  }
}
