import { NUMBER_ID_CONTEXT, PHONE_CONTEXT, precededBy, push } from './context.js';
import type { RawFinding } from './types.js';

// A run of digit groups joined by single separators (space, '-', '.', '/', parentheses), maybe after '+' or '('.
const RUN_RE = /(?<![\w+\-.\/])(?:\+|\(\+?)?\d(?:[\d\-.\/()]| (?=[\d(+]))*\d/g;
const DATE_RE = /^(?:\d{1,4}([.\/\-])\d{1,2}\1\d{1,4}|\d{4}-\d{2}-\d{2})$/;
const US_RE = /^(?:1[ .\-])?(?:\([2-9]\d{2}\) ?[2-9]\d{2}[ .\-]\d{4}|[2-9]\d{2}([ .\-])[2-9]\d{2}\1\d{4})$/;
const FR_RE = /^0[1-9]([ .\-])\d{2}(?:\1\d{2}){3}$/;
const IN_MOBILE_RE = /^0?[6-9]\d{4}[ \-]\d{5}$/;
// UK, DE, IN landlines and mobiles, and most European national formats: trunk 0, area code, groups.
const TRUNK_RE = /^(?:\(0[1-9]\d{1,4}\)|0[1-9]\d{1,4})(?:[ \-\/]\d{2,8}){1,3}$/;
const MAX_GROUPS = 8;

/**
 * Phone numbers. Rules (documented in docs/guardrails-detection.md):
 * - `+` (or `00`) and 8-15 digits: international (E.164 length), any grouping;
 * - national formats: US `(415) 555-2671` / `415-555-2671` / `1-800-...` (same separator, NANP rules),
 *   FR `06 12 34 56 78`, IN `98765 43210`, and trunk-0 formats (UK `020 7946 0958`, DE `030 12345678`,
 *   `089/1234567`) with 10-12 digits;
 * - a bare run of 10-13 digits only after a phone word (phone, call, Tel., Telefon, téléphone, teléfono...);
 * - never a date (`2024-01-15`, `15.01.2024`), and never right after an ID word (order, invoice, ref, #...)
 *   unless a phone word is near too.
 * A run of groups is tried from its left, longest span first, so "on 12 415-555-2671" finds the phone.
 */
export function detectPhone(text: string, out: RawFinding[]): void {
  RUN_RE.lastIndex = 0;
  for (let m = RUN_RE.exec(text); m !== null; m = RUN_RE.exec(text)) {
    if (m[0].length < 7) continue;
    scanRun(text, m.index, m[0], out);
  }
}

function scanRun(text: string, runStart: number, run: string, out: RawFinding[]): void {
  const groups: Array<[number, number]> = [];
  for (let i = 0; i < run.length; ) {
    if (!isDigit(run.charCodeAt(i))) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < run.length && isDigit(run.charCodeAt(j))) j += 1;
    groups.push([runStart + i, runStart + j]);
    i = j;
  }
  let i = 0;
  while (i < groups.length) {
    let matched = -1;
    for (let j = Math.min(groups.length - 1, i + MAX_GROUPS - 1); j >= i; j -= 1) {
      let digits = 0;
      for (let k = i; k <= j; k += 1) digits += (groups[k] as [number, number])[1] - (groups[k] as [number, number])[0];
      if (digits < 8 || digits > 17 || singleDigitGroups(groups, i, j) > 2) continue;
      const start = spanStart(text, runStart, (groups[i] as [number, number])[0]);
      const end = (groups[j] as [number, number])[1];
      const subtype = classify(text, start, end);
      if (subtype !== undefined) {
        push(out, 'phone', start, end, subtype);
        matched = j;
        break;
      }
    }
    i = matched >= 0 ? matched + 1 : i + 1;
  }
}

/** Groups of one digit: a country code or "(0)" has one, counting like "1 2 3 4" has many. */
function singleDigitGroups(groups: ReadonlyArray<[number, number]>, from: number, to: number): number {
  let count = 0;
  for (let k = from; k <= to; k += 1) if ((groups[k] as [number, number])[1] - (groups[k] as [number, number])[0] === 1) count += 1;
  return count;
}

/** Includes a '(' or '+' right before the first digit group. */
function spanStart(text: string, runStart: number, groupStart: number): number {
  let start = groupStart;
  while (start > runStart && (text[start - 1] === '(' || text[start - 1] === '+')) start -= 1;
  return start;
}

function classify(text: string, start: number, end: number): string | undefined {
  const span = text.slice(start, end);
  const digits = span.replace(/\D/g, '');
  if (digits.length < 8 || digits.length > 17 || DATE_RE.test(span)) return undefined;
  const shape = shapeOf(span, digits);
  if (shape === undefined) return undefined;
  // Context last: it costs a slice and a regex.
  const phoneWord = precededBy(text, start, PHONE_CONTEXT, 30);
  if (shape === 'context') return phoneWord ? 'context' : undefined;
  if (!phoneWord && precededBy(text, start, NUMBER_ID_CONTEXT, 20)) return undefined;
  return shape;
}

/** The format a span has on its own; 'context' when only a phone word nearby makes it a phone. */
function shapeOf(span: string, digits: string): string | undefined {
  const separated = /\D/.test(span.replace(/^\(?\+/, ''));
  if (/^\(?\+/.test(span)) return digits.length <= 15 && digits[0] !== '0' ? 'intl' : undefined;
  if (digits.startsWith('00') && digits[2] !== '0' && separated) return digits.length - 2 >= 8 && digits.length - 2 <= 15 ? 'intl' : undefined;
  if (digits.length > 13) return undefined;
  if (!separated) return digits.length >= 10 ? 'context' : undefined;
  if (US_RE.test(span)) return 'us';
  if (FR_RE.test(span)) return 'fr';
  if (IN_MOBILE_RE.test(span)) return 'in';
  if (TRUNK_RE.test(span) && digits.length >= 10 && digits.length <= 12) return 'national';
  return digits.length >= 10 ? 'context' : undefined;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
