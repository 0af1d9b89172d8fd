import { privateKeyBlock } from './secrets.js';
import type { RawFinding } from './types.js';

/**
 * Longest run without a value terminator a stream holds back. Every such entity value is shorter
 * (the longest, JWTs and bearer tokens, stop at 4096 characters; longer ones are not detected at all).
 */
export const WORD_CAP = 8192;
/**
 * Characters no whitespace-free value contains (checked against every detector's character set:
 * e-mails, addresses, keys, tokens, labelled values), so a value reaching the tail starts after the last
 * of them. The apostrophe is not one (o'brien@example.com).
 */
export const VALUE_TERMINATOR = /[\s"`,;]/;
/** Longest value made of digit groups (phone, card, SSN with separators): 8 groups and separators fit. */
const NUMERIC_CAP = 48;
/** IBANs with a separator between every character still fit. */
const IBAN_WINDOW = 80;

const DIGIT_RUN_TAIL = /(?:\+|\(\+?)?\d[\d\s.\-\/()]*$/;
const IBAN_TAIL = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){0,34}[ \-]?$/;
const PEM_HEADER_TAIL = /-----BEGIN(?: [A-Z0-9]*)*-{0,5}$/;
const PEM_HEADER = /^-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----/;

/**
 * Where the undecided tail of normalized `text` starts: a value that more text could still complete
 * or extend can only begin at or after this offset. It is the earliest of
 * - the last run without whitespace, quotes, commas or semicolons (an e-mail, key, token or address
 *   may continue), at most WORD_CAP back;
 * - the trailing run of digits and separators (phone, card, SSN), at most NUMERIC_CAP back;
 * - a trailing IBAN candidate (letters inside its groups);
 * - an open private key block (header seen, no END, not settled), or a partial `-----BEGIN ...` header;
 * - with custom entities, `customMaxLength - 1` characters;
 * - the start of any finding that reaches into that tail.
 */
export function holdStart(text: string, findings: readonly RawFinding[], customMaxLength: number): number {
  const n = text.length;
  let hold = n;
  let wordStart = n;
  while (wordStart > 0 && !VALUE_TERMINATOR.test(text.charAt(wordStart - 1)) && n - wordStart < WORD_CAP) wordStart -= 1;
  hold = Math.min(hold, wordStart);
  const numeric = DIGIT_RUN_TAIL.exec(text.slice(-NUMERIC_CAP));
  if (numeric !== null) hold = Math.min(hold, n - Math.min(n, NUMERIC_CAP) + numeric.index);
  const ibanWindow = text.slice(-IBAN_WINDOW);
  const iban = IBAN_TAIL.exec(ibanWindow);
  if (iban !== null) hold = Math.min(hold, n - ibanWindow.length + iban.index);
  hold = Math.min(hold, openPrivateKey(text));
  if (customMaxLength > 1) hold = Math.min(hold, Math.max(0, n - (customMaxLength - 1)));
  for (let i = findings.length - 1; i >= 0; i -= 1) {
    const finding = findings[i] as RawFinding;
    if (finding.end > hold) hold = Math.min(hold, finding.start);
  }
  return hold;
}

/** Start of an unsettled private key block or partial header, or the text length when there is none. */
function openPrivateKey(text: string): number {
  const begin = text.lastIndexOf('-----BEGIN');
  if (begin < 0) return text.length;
  const rest = text.slice(begin);
  const header = PEM_HEADER.exec(rest);
  if (header === null) return PEM_HEADER_TAIL.test(rest) ? begin : text.length;
  return privateKeyBlock(text, begin, header[0].length).settled ? text.length : begin;
}
