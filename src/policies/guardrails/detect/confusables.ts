/**
 * A deliberately small confusables fold, applied after NFKC. NFKC already folds fullwidth forms
 * (＠ ．０-９ Ａ-Ｚ), the small commercial at (﹫), mathematical alphanumerics (𝐀 𝟎), circled and
 * super/subscript digits, and exotic spaces. It does NOT fold:
 * - Cyrillic and Greek letters that look Latin (а е о р с х у і ј ѕ, Α Β Ε Κ Μ Ο Ρ Τ Χ ...), which are
 *   the usual trick against key prefixes (АKIA) and e-mail addresses (jоhn@...);
 * - decimal digits of other scripts (Arabic-Indic ٠-٩, Persian ۰-۹, Devanagari ०-९, Bengali ০-৯);
 * - dash-like characters (‐ ‒ – — −) and the ideographic full stop (。).
 * Those are folded here, nothing else: the table only covers characters the patterns care about
 * (digits, '@', '.', '-', and Latin letters), so other scripts keep their meaning.
 */
const PAIRS: ReadonlyArray<readonly [string, string]> = [
  // Cyrillic capitals and small letters that render like Latin ones.
  ['АВЕКМНОРСТХУІЈЅ', 'ABEKMHOPCTXYIJS'],
  ['аеорсухіјѕԁԛԝ', 'aeopcyxijsdqw'],
  // Greek capitals and a few small letters.
  ['ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ', 'ABEZHIKMNOPTYX'],
  ['οικνρ', 'oikvp'],
  // Latin lookalikes NFKC keeps: dotless i, script g.
  ['ıɡ', 'ig'],
  // Punctuation: dashes and minus to '-', ideographic full stop to '.'.
  ['‐‑‒–—―−', '-------'],
  ['。', '.'],
];

/** Zero code points of decimal digit blocks NFKC leaves alone. */
const DIGIT_ZEROS = [0x0660, 0x06f0, 0x0966, 0x09e6];

const TABLE = new Map<number, string>();
for (const [from, to] of PAIRS) {
  for (let i = 0; i < from.length; i += 1) TABLE.set(from.charCodeAt(i), to.charAt(i));
}
for (const zero of DIGIT_ZEROS) {
  for (let d = 0; d < 10; d += 1) TABLE.set(zero + d, String(d));
}

const escape = (code: number): string => `\\u${code.toString(16).padStart(4, '0')}`;
/** Matches any character the table folds. */
export const FOLDABLE_RE = new RegExp(`[${[...TABLE.keys()].map(escape).join('')}]`);

/** The folded replacement of one UTF-16 code unit, or undefined when it stays as is. */
export function foldConfusable(code: number): string | undefined {
  return code < 0x80 ? undefined : TABLE.get(code);
}
