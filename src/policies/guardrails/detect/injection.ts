import { PATTERNS, SIGNAL_WEIGHTS, type InjectionPattern, type InjectionSignal } from './injection-patterns.js';
import { INVISIBLE_RE, normalize } from './normalize.js';

export { SIGNAL_WEIGHTS, type InjectionSignal } from './injection-patterns.js';

/** Result of `scoreInjection`: a probability-like score and the signals behind it. */
export interface InjectionScore {
  /** 0..1, noisy-OR of the signal weights. A heuristic: treat it as a hint, not a verdict. */
  score: number;
  signals: InjectionSignal[];
}

/** Score at which the labelled set is measured (and a sensible default for block/flag). */
export const INJECTION_THRESHOLD = 0.5;

const TAGS_RE = /\uDB40[\uDC00-\uDC7F]/g;
const BIDI_RE = /[\u202A-\u202E\u2066-\u2069]/;
// Zero-width characters inside text; ZWJ/ZWNJ only between Latin letters (emoji and Indic/Persian scripts use them).
const ZERO_WIDTH_RE = /[\u200B\u2060-\u2064\u180E]|(?<=.)\uFEFF|(?<=[A-Za-z])[\u200C\u200D](?=[A-Za-z])/;
// Every family in one regex, a named group per family: one scan of the text.
const COMBINED_SOURCE = PATTERNS.map((pattern, index) => `(?<p${index}>${pattern.re.source})`).join('|');
const COMBINED_LOWER = new RegExp(COMBINED_SOURCE, 'gm');
const COMBINED_ANY_CASE = new RegExp(COMBINED_SOURCE, 'gim');
const COMMENT_RE = /<!--([\s\S]*?)-->|\[(?:\/\/|comment)\]:\s*#\s*\(([^)]*)\)/gi;
const HIDDEN_STYLE_RE = /<[a-z][^>]*\b(?:style\s*=\s*["'][^"']*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0(?:\.0*)?\s*(?:;|["'])|color\s*:\s*(?:white|#fff(?:fff)?|transparent))|hidden\b|aria-hidden\s*=\s*["']true)[^>]*>/i;

/**
 * Heuristic prompt-injection score for one text (a user message, a tool result, a document).
 * Signals and weights are in injection-patterns.ts; phrases are matched on normalized text (NFKC,
 * invisible characters removed, homoglyphs folded), invisible and bidi characters on the original.
 * Probabilistic by nature: rephrasings, other languages and encodings not covered pass; benign texts
 * that quote an attack score high. The strong controls are access rules and tool permissions.
 */
export function scoreInjection(text: string): InjectionScore {
  const signals = new Set<InjectionSignal>();
  const normalized = normalize(text).text;
  for (const hit of phraseHits(normalized.toLowerCase(), COMBINED_LOWER)) signals.add(hit.signal);
  const tags = text.match(TAGS_RE);
  if (tags !== null) {
    signals.add('unicode_tags');
    const decoded = tags.map((tag) => String.fromCharCode(tag.charCodeAt(1) - 0xdc00)).join('');
    for (const hit of phraseHits(decoded, COMBINED_ANY_CASE)) signals.add(hit.signal);
  }
  if (BIDI_RE.test(text)) signals.add('bidi_control');
  if (ZERO_WIDTH_RE.test(text)) signals.add('zero_width');
  for (const decoded of decodedBlobs(normalized)) {
    if (phraseHits(decoded.text, COMBINED_ANY_CASE).length > 0) signals.add('encoded_payload');
    else if (decoded.text.length >= 32) signals.add('encoded_blob');
  }
  if (hiddenMarkup(normalized)) signals.add('hidden_markup');
  let keep = 1;
  for (const signal of signals) keep *= 1 - SIGNAL_WEIGHTS[signal];
  return { score: Math.round((1 - keep) * 1000) / 1000, signals: [...signals] };
}

/**
 * Removes what `scoreInjection` matched, for the `strip` action: each override, role-play, prompt-leak
 * or role-marker phrase through the end of its sentence (or line), encoded blobs that decode to such
 * phrases, and all invisible characters (zero-width, bidi controls, tag characters).
 * The rest of the text is left as it was.
 */
export function stripInjection(text: string): string {
  const normalized = normalize(text);
  const spans: Array<[number, number]> = [];
  for (const hit of phraseHits(normalized.text, COMBINED_ANY_CASE)) {
    spans.push(normalized.map.range(hit.start, sentenceEnd(normalized.text, hit.end)));
  }
  for (const decoded of decodedBlobs(normalized.text)) {
    if (phraseHits(decoded.text, COMBINED_ANY_CASE).length > 0) spans.push(normalized.map.range(decoded.start, decoded.end));
  }
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let cursor = 0;
  for (const [start, end] of spans) {
    if (end <= cursor) continue;
    out += text.slice(cursor, Math.max(cursor, start));
    cursor = end;
  }
  out += text.slice(cursor);
  return out.replace(INVISIBLE_RE, '').replace(/[ \t]{2,}/g, ' ');
}

interface PhraseHit {
  signal: InjectionSignal;
  start: number;
  end: number;
}

function phraseHits(text: string, combined: RegExp): PhraseHit[] {
  const hits: PhraseHit[] = [];
  combined.lastIndex = 0;
  for (let m = combined.exec(text); m !== null; m = combined.exec(text)) {
    const pattern = matchedPattern(m);
    if (m[0].length === 0 || pattern === undefined || (pattern.check !== undefined && !pattern.check(m[0]))) {
      // Another family may still match here.
      combined.lastIndex = m.index + 1;
      continue;
    }
    hits.push({ signal: pattern.signal, start: m.index, end: m.index + m[0].length });
  }
  return hits;
}

function matchedPattern(match: RegExpExecArray): InjectionPattern | undefined {
  const groups = match.groups ?? {};
  for (let index = 0; index < PATTERNS.length; index += 1) {
    if (groups[`p${index}`] !== undefined) return PATTERNS[index];
  }
  return undefined;
}

function sentenceEnd(text: string, from: number): number {
  const rest = /[.!?\n]/.exec(text.slice(from));
  return rest === null ? text.length : from + rest.index + 1;
}

// Characters of base64 and base64url, as a lookup table for the blob scan.
const BLOB_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-') BLOB_CHAR[ch.charCodeAt(0)] = 1;

/** Runs of 24+ base64 characters (hex when they are all hex digits) that decode to mostly printable text. */
function decodedBlobs(text: string): Array<{ start: number; end: number; text: string }> {
  const out: Array<{ start: number; end: number; text: string }> = [];
  let runStart = 0;
  for (let i = 0; i <= text.length; i += 1) {
    const code = i < text.length ? text.charCodeAt(i) : 32;
    if (code < 128 && BLOB_CHAR[code] === 1) continue;
    if (i - runStart >= 24) {
      let end = i;
      while (end < text.length && end - i < 2 && text.charCodeAt(end) === 61) end += 1;
      const blob = decodeBlob(text.slice(runStart, i));
      if (blob !== undefined) out.push({ start: runStart, end, text: blob });
    }
    runStart = i + 1;
  }
  return out;
}

function decodeBlob(run: string): string | undefined {
  const hex = /^(?:[0-9a-fA-F]{2})+$/.test(run);
  // Plain words and identifiers are not blobs: base64 mixes cases or has digits and symbols.
  if (!hex && !/[0-9+\/=_-]/.test(run) && !(/[A-Z]/.test(run) && /[a-z]/.test(run))) return undefined;
  const decoded = hex ? Buffer.from(run, 'hex').toString('utf8') : Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  return decoded.length >= 12 && printableRatio(decoded) >= 0.9 ? decoded : undefined;
}

function printableRatio(text: string): number {
  let printable = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if ((code >= 32 && code < 127) || code === 10 || code === 13 || code === 9) printable += 1;
  }
  return printable / text.length;
}

/** Hidden HTML (comments, display:none, white or zero-size text) or markdown comments with instruction-like content. */
function hiddenMarkup(text: string): boolean {
  if (!text.includes('<') && !text.includes('[')) return false;
  if (HIDDEN_STYLE_RE.test(text)) return true;
  COMMENT_RE.lastIndex = 0;
  for (let m = COMMENT_RE.exec(text); m !== null; m = COMMENT_RE.exec(text)) {
    const body = m[1] ?? m[2] ?? '';
    if (phraseHits(body, COMBINED_ANY_CASE).length > 0 || /\b(?:assistant|ai|model|llm|you must|you should|instructions?)\b/i.test(body)) return true;
  }
  return false;
}
