import type { RawFinding } from './types.js';

/** True when `re` matches in the `distance` characters before `index` (lower-cased). `re` must not be global. */
export function precededBy(text: string, index: number, re: RegExp, distance: number): boolean {
  return re.test(text.slice(Math.max(0, index - distance), index).toLowerCase());
}

/** Words that make a bare number a phone number (EN, DE, FR, ES). */
export const PHONE_CONTEXT = /\b(?:phone|tel|telephone|mobile|cell|call|text me|sms|whatsapp|fax|reach me|contact|ring|telefon|handy|mobil|rufnummer|t[ée]l[ée]phone|portable|num[ée]ro|tel[ée]fono|m[óo]vil|celular|ll[áa]mame)\b/;

/** Words that make a number something else: an order, invoice, ticket, part or account number. */
export const NUMBER_ID_CONTEXT = /(?:\b(?:order|invoice|inv|ref|reference|ticket|tracking|account|acct|isbn|serial|sku|part|case|po|id|no|nr|item|model|batch|lot|version|build)\b[\s.:#-]*|#\s*)$/;

/** Words that make a 9-digit number without dashes a US SSN. */
export const SSN_CONTEXT = /\b(?:ssn|ss no|s\.s\.n|social security|soc\.? sec|taxpayer id|tin)\b|\bss#/;

/** Appends the match to `out` as a finding. */
export function push(out: RawFinding[], type: string, start: number, end: number, subtype?: string): void {
  out.push(subtype === undefined ? { type, start, end } : { type, start, end, subtype });
}
