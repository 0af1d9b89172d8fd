/** IBAN length per country (ISO 13616 registry, SWIFT release of 2024; includes partial members such as BI, DJ, LY, SD). */
const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22,
  IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20,
  LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18,
  NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31,
  SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29,
  VA: 22, VG: 24, XK: 20, YE: 30,
};

/** IBAN length for a country code, or undefined when the country has no IBAN. */
export function ibanLength(country: string): number | undefined {
  return IBAN_LENGTHS[country];
}

/** Luhn (mod 10) check over the digits of `value` (other characters ignored); false with fewer than 2 digits. */
export function luhnValid(value: string): boolean {
  let sum = 0;
  let count = 0;
  for (let i = value.length - 1; i >= 0; i -= 1) {
    const code = value.charCodeAt(i);
    if (code < 48 || code > 57) continue;
    let digit = code - 48;
    if (count % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    count += 1;
  }
  return count >= 2 && sum % 10 === 0;
}

/** IBAN check: known country, its exact length, alphanumeric BBAN, mod-97 == 1. Spaces and dashes are ignored. */
export function ibanValid(value: string): boolean {
  const compact = value.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(compact)) return false;
  if (ibanLength(compact.slice(0, 2)) !== compact.length) return false;
  return mod97(compact.slice(4) + compact.slice(0, 4)) === 1;
}

function mod97(text: string): number {
  let rest = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    // Letters count as two digits (A = 10 ... Z = 35).
    if (code >= 65) rest = (rest * 100 + (code - 55)) % 97;
    else rest = (rest * 10 + (code - 48)) % 97;
  }
  return rest;
}

/** Shannon entropy in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** How many of lower case, upper case, digits, other symbols occur. */
export function charClasses(value: string): number {
  let classes = 0;
  if (/[a-z]/.test(value)) classes += 1;
  if (/[A-Z]/.test(value)) classes += 1;
  if (/\d/.test(value)) classes += 1;
  if (/[^A-Za-z0-9]/.test(value)) classes += 1;
  return classes;
}

const PLACEHOLDER_WORDS = /example|sample|dummy|placeholder|your|redacted|changeme|change_me|replace_?me|secret_here|xxxx|\*\*\*|\.\.\./i;
// Template and code syntax: <token>, ${VAR}, $VAR, {{ var }}, %s, %(name)s, %VAR%, call(...), index['...'].
const TEMPLATE = /<[^>]*>|\$\{|\$[A-Za-z_]|\{\{|%[sd]\b|%\(|%[A-Za-z_]+%|\w\(|\[['"]/;
// A dotted path of words (process.env.API_KEY, settings.db.password), maybe followed by a call or index.
const CODE_PATH = /^[A-Za-z_$][A-Za-z_$]*\d*(?:\.[A-Za-z_$][A-Za-z_$]*\d*)*(?:[\[(]|(?<=\.[A-Za-z_$]+\d*)$)/;

/**
 * True when a credential-like value is evidently a placeholder: template syntax (`<..>`, `${..}`, `%s`),
 * env-var names (`MY_API_KEY`), code references (`os.environ[`, `process.env.API_KEY`), masks (`****`,
 * `xxxx`), or words such as "example" or "your". Used for labelled values (`password=`, `Bearer`),
 * not for fixed-format keys.
 */
export function looksLikePlaceholder(value: string): boolean {
  if (PLACEHOLDER_WORDS.test(value) || TEMPLATE.test(value)) return true;
  if (/^[A-Z][A-Z0-9_]*$/.test(value)) return true;
  if (CODE_PATH.test(value)) return true;
  return /^(.)\1+$/.test(value);
}
