import type { Detector } from './detector.js';
import { VALUE_TERMINATOR, holdStart } from './hold.js';
import { normalize } from './normalize.js';
import { PRIVATE_KEY_CAP } from './secrets.js';
import type { Finding } from './types.js';

/** Called for each finding in a stream; returns its replacement, or throws to stop the stream. */
export type OnFinding = (finding: Finding, matchedText: string) => string;

/** Options of `StreamScanner`. */
export interface StreamScannerOptions {
  onFinding: OnFinding;
}

/** Emitted text kept as left context (SSN/phone words, AWS key id before its secret: 200 characters at most). */
const LOOKBACK = 512;
/** A trailing run this long without a value terminator (a base64 blob, minified data) is rescanned only... */
const LONG_RUN = 256;
/** ...every this many new characters, so a long blob costs linear rather than quadratic time. */
const RESCAN_EVERY = 1024;
const TERMINATOR_G = new RegExp(VALUE_TERMINATOR.source, 'g');
const PEM_END = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;
const KEY_LINE = /^(?:[A-Za-z0-9+\/=]*|[A-Za-z-]+: .*)\r?$/;

/**
 * Scans a text stream chunk by chunk and replaces findings on the fly. `push` returns the text that is
 * safe to emit: nothing of a value the detector would find in the whole text is ever returned, however
 * the value is split (see `holdStart` for what is held back and its bounds). `onFinding` may throw to
 * terminate: nothing of that value has been emitted then, and the scanner refuses further input.
 * Findings passed to `onFinding` carry offsets in the whole stream (start/end equal sourceStart/sourceEnd).
 * A private key block longer than the cap is replaced once, and the rest of its body is dropped.
 */
export class StreamScanner {
  private pending = '';
  private lookback = '';
  private suppressing = false;
  private closed = false;
  /** Characters of the stream moved out of `pending` so far (emitted, replaced or dropped). */
  private consumed = 0;
  /** Length of the trailing run without a value terminator, and characters pushed since the last scan. */
  private tailRun = 0;
  private sinceScan = 0;

  constructor(
    private readonly detector: Detector,
    private readonly options: StreamScannerOptions,
  ) {}

  /** Characters received but not yet emitted. */
  get heldBack(): number {
    return this.pending.length;
  }

  /** Adds a chunk; returns the text safe to emit now (possibly empty). */
  push(chunk: string): string {
    if (this.closed) throw new Error('StreamScanner: push after end or after onFinding threw');
    this.pending += chunk;
    this.track(chunk);
    // Inside a long run nothing can be emitted anyway (the run is held): scan again only now and then.
    if (this.tailRun >= LONG_RUN && this.sinceScan < RESCAN_EVERY) return '';
    this.sinceScan = 0;
    return this.guard(() => this.drain(false));
  }

  /** Ends the stream; returns everything still held, with findings replaced. */
  end(): string {
    if (this.closed) throw new Error('StreamScanner: end called twice or after onFinding threw');
    const rest = this.guard(() => this.drain(true));
    this.closed = true;
    return rest;
  }

  private track(chunk: string): void {
    this.sinceScan += chunk.length;
    let last = -1;
    TERMINATOR_G.lastIndex = 0;
    for (let m = TERMINATOR_G.exec(chunk); m !== null; m = TERMINATOR_G.exec(chunk)) last = m.index;
    this.tailRun = last < 0 ? this.tailRun + chunk.length : chunk.length - last - 1;
  }

  private guard(run: () => string): string {
    try {
      return run();
    } catch (error) {
      this.closed = true;
      throw error;
    }
  }

  private drain(final: boolean): string {
    if (this.suppressing && !this.skipKeyBody(final)) return '';
    const buffer = this.lookback + this.pending;
    const base = this.lookback.length;
    const normalized = normalize(buffer);
    const raw = this.detector.detectNormalized(normalized.text);
    const hold = final ? normalized.text.length : holdStart(normalized.text, raw, this.detector.customMaxLength);
    const limit = Math.max(base, final ? buffer.length : normalized.map.toOriginal(hold));
    let out = '';
    let cursor = base;
    let cappedKey = false;
    for (const finding of raw) {
      if (finding.start >= hold && !final) break;
      const [sourceStart, sourceEnd] = normalized.map.range(finding.start, finding.end);
      if (sourceEnd <= base) continue;
      const from = Math.max(sourceStart, cursor);
      out += buffer.slice(cursor, from);
      const at = this.consumed - base;
      const located = { ...finding, start: at + sourceStart, end: at + sourceEnd, sourceStart: at + sourceStart, sourceEnd: at + sourceEnd };
      out += this.options.onFinding(located, buffer.slice(sourceStart, sourceEnd));
      cursor = sourceEnd;
      cappedKey = finding.subtype === 'private_key' && finding.end - finding.start >= PRIVATE_KEY_CAP;
      if (cappedKey) break;
    }
    if (cappedKey) {
      // A block cut at the cap: nothing after it is emitted until the rest of its body is dropped.
      this.advance(buffer, cursor);
      this.suppressing = true;
      return out + this.drain(final);
    }
    const emitted = Math.max(cursor, limit);
    out += buffer.slice(cursor, emitted);
    this.advance(buffer, emitted);
    return out;
  }

  /** Moves `buffer` up to `emitted` from pending to the lookback, keeping the lookback short and word-aligned. */
  private advance(buffer: string, emitted: number): void {
    this.consumed += emitted - this.lookback.length;
    this.pending = buffer.slice(emitted);
    let lookback = buffer.slice(0, emitted);
    if (lookback.length > LOOKBACK) {
      lookback = lookback.slice(-LOOKBACK);
      const space = lookback.search(/\s/);
      if (space >= 0) lookback = lookback.slice(space + 1);
    }
    this.lookback = lookback;
  }

  /** Drops key body lines while suppressing; true once the body ended and normal scanning resumes. */
  private skipKeyBody(final: boolean): boolean {
    const close = PEM_END.exec(this.pending);
    if (close !== null) {
      this.drop(close.index + close[0].length);
      return this.resume();
    }
    let lineStart = 0;
    for (;;) {
      const newline = this.pending.indexOf('\n', lineStart);
      if (newline < 0) break;
      if (!KEY_LINE.test(this.pending.slice(lineStart, newline))) {
        this.drop(lineStart);
        return this.resume();
      }
      lineStart = newline + 1;
    }
    // Keep the unfinished last line: it may be the END marker or key material.
    this.drop(final ? this.pending.length : lineStart);
    if (final) this.suppressing = false;
    return false;
  }

  private drop(count: number): void {
    this.pending = this.pending.slice(count);
    this.consumed += count;
  }

  private resume(): true {
    // The key text in the lookback must not be matched again.
    this.lookback = '';
    this.suppressing = false;
    return true;
  }
}
