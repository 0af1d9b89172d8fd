import { push } from './context.js';
import type { RawFinding } from './types.js';
import { ibanLength, ibanValid, luhnValid } from './validators.js';

// Digit groups joined by single spaces or dashes, not inside a longer token.
const CARD_RUN_RE = /(?<![\w.\-])\d+(?:[ \-]\d+)*(?![\w]|[.\-]\d)/g;

/** Card brand by IIN prefix and length, or undefined when no network issues such a number. */
export function cardBrand(digits: string): string | undefined {
  const n = digits.length;
  if (/^4/.test(digits)) return n === 13 || n === 16 || n === 19 ? 'visa' : undefined;
  if (/^(?:5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))/.test(digits)) return n === 16 ? 'mastercard' : undefined;
  if (/^3[47]/.test(digits)) return n === 15 ? 'amex' : undefined;
  if (/^(?:6011|64[4-9]|65)/.test(digits)) return n >= 16 ? 'discover' : undefined;
  if (/^35(?:2[89]|[3-8]\d)/.test(digits)) return n >= 16 ? 'jcb' : undefined;
  if (/^3(?:0[0-5]|[689])/.test(digits)) return n >= 14 ? 'diners' : undefined;
  if (/^220[0-4]/.test(digits)) return n >= 16 ? 'mir' : undefined;
  if (/^62/.test(digits)) return n >= 16 ? 'unionpay' : undefined;
  if (/^(?:50|5[6-8]|6\d)/.test(digits)) return 'maestro';
  return undefined;
}

/**
 * Payment cards: 13-19 digits, bare or in groups of 3-8 with one separator kind (space or dash),
 * a known IIN prefix with a length that network issues, and a valid Luhn check digit.
 * Runs longer than a card ("4111 1111 1111 1111 12/25") are tried group-aligned, longest first.
 */
export function detectPaymentCard(text: string, out: RawFinding[], digitCount: number): void {
  if (digitCount < 13) return;
  CARD_RUN_RE.lastIndex = 0;
  for (let m = CARD_RUN_RE.exec(text); m !== null; m = CARD_RUN_RE.exec(text)) {
    if (m[0].length < 13) continue;
    const groups: Array<[number, number]> = [];
    const groupRe = /\d+/g;
    for (let g = groupRe.exec(m[0]); g !== null; g = groupRe.exec(m[0])) groups.push([m.index + g.index, m.index + g.index + g[0].length]);
    let i = 0;
    while (i < groups.length) {
      let matched = -1;
      for (let j = Math.min(groups.length - 1, i + 5); j >= i; j -= 1) {
        let digits = 0;
        for (let k = i; k <= j; k += 1) digits += (groups[k] as [number, number])[1] - (groups[k] as [number, number])[0];
        if (digits < 13 || digits > 19) continue;
        const start = (groups[i] as [number, number])[0];
        const end = (groups[j] as [number, number])[1];
        const brand = cardSpan(text.slice(start, end), j - i + 1);
        if (brand !== undefined) {
          push(out, 'payment_card', start, end, brand);
          matched = j;
          break;
        }
      }
      i = matched >= 0 ? matched + 1 : i + 1;
    }
  }
}

function cardSpan(span: string, groupCount: number): string | undefined {
  const digits = span.replace(/\D/g, '');
  if (digits.length < 13 || digits.length > 19) return undefined;
  if (groupCount > 1) {
    const separators = new Set(span.replace(/\d/g, ''));
    if (separators.size !== 1) return undefined;
    if (span.split(/[ \-]/).some((group) => group.length < 3 || group.length > 8)) return undefined;
  }
  const brand = cardBrand(digits);
  return brand !== undefined && luhnValid(digits) ? brand : undefined;
}

const IBAN_START_RE = /(?<![A-Za-z0-9])([A-Z]{2})(\d{2})(?=[ \-]?[A-Z0-9])/g;

/**
 * IBANs: upper-case country code with an IBAN length, check digits, then exactly that many
 * alphanumerics (single spaces or dashes between them allowed), then no further alphanumeric; mod-97 must hold.
 */
export function detectIban(text: string, out: RawFinding[], digitCount: number): void {
  if (digitCount < 8) return;
  IBAN_START_RE.lastIndex = 0;
  for (let m = IBAN_START_RE.exec(text); m !== null; m = IBAN_START_RE.exec(text)) {
    const length = ibanLength(m[1] ?? '');
    if (length === undefined) continue;
    let need = length - 4;
    let i = m.index + 4;
    while (need > 0 && i < text.length) {
      const ch = text.charCodeAt(i);
      if ((ch === 32 || ch === 45) && i + 1 < text.length && isUpperAlnum(text.charCodeAt(i + 1)) && isUpperAlnum(text.charCodeAt(i - 1))) {
        i += 1;
        continue;
      }
      if (!isUpperAlnum(ch)) break;
      need -= 1;
      i += 1;
    }
    if (need > 0 || (i < text.length && isAlnum(text.charCodeAt(i)))) continue;
    if (!ibanValid(text.slice(m.index, i))) continue;
    push(out, 'iban', m.index, i, m[1]);
    IBAN_START_RE.lastIndex = i;
  }
}

function isUpperAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
}

function isAlnum(code: number): boolean {
  return isUpperAlnum(code) || (code >= 97 && code <= 122);
}
