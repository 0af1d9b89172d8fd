import { push } from './context.js';
import type { RawFinding, SecretSubtype } from './types.js';
import { charClasses, looksLikePlaceholder, shannonEntropy } from './validators.js';

/** Longest private key block that is held and matched as one finding; longer ones are cut there. */
export const PRIVATE_KEY_CAP = 16_384;
/** Longest JWT and bearer/labelled token value matched. */
export const TOKEN_CAP = 4096;

interface FixedFormat {
  subtype: SecretSubtype;
  /** Prefilter category (see HINT_RE) that must have occurred before the regex runs. */
  hint: Hint;
  re: RegExp;
  /** Extra check on the match. */
  check?: (value: string) => boolean;
}

const random = (value: string): boolean => charClasses(value) >= 3 && shannonEntropy(value) >= 3.5;

// Fixed-format keys, each bounded so that a longer token around it is not cut into a key.
const FIXED: readonly FixedFormat[] = [
  { subtype: 'aws_access_key_id', hint: 'aws', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/g },
  { subtype: 'github_token', hint: 'gh', re: /(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,251}(?![A-Za-z0-9_])/g },
  { subtype: 'github_token', hint: 'ghpat', re: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{70,247}(?![A-Za-z0-9_])/g },
  { subtype: 'slack_token', hint: 'xox', re: /(?<![\w-])xox[abprs]-(?:\d+-){1,3}(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{8,}(?![\w-])/g },
  { subtype: 'stripe_key', hint: 'live', re: /(?<![A-Za-z0-9_])[sr]k_live_[A-Za-z0-9]{20,247}(?![A-Za-z0-9_])/g },
  { subtype: 'anthropic_key', hint: 'sk', re: /(?<![\w-])sk-ant-[a-z]{2,8}\d{0,3}-[A-Za-z0-9_-]{32,250}(?![\w-])/g },
  {
    subtype: 'openai_key',
    hint: 'sk',
    re: /(?<![\w-])sk-(?!ant-)(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{20,250}(?![\w-])/g,
    check: (value) => random(value.replace(/^sk-(?:(?:proj|svcacct|admin|None)-)?/, '')),
  },
  { subtype: 'google_api_key', hint: 'aiza', re: /(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])/g },
];

const JWT_RE = /(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*(?![\w-]|\.[A-Za-z0-9_-])/g;
const BEARER_RE = /\b(?:bearer\s+|authorization\s*[:=]\s*["']?(?:(?:basic|bearer|token|digest|apikey)\s+)?)([A-Za-z0-9._~+\/-]{16,4096}=*)(?![A-Za-z0-9._~+\/=-])/gi;
const LABEL_WORDS = 'password|passwd|pwd|pass|secret|api[_-]?key|apikey|access[_-]?key|auth[_-]?token|access[_-]?token|refresh[_-]?token|api[_-]?token|session[_-]?token|client[_-]?secret|private[_-]?key|secret[_-]?key';
const LABEL_WORD_RE = new RegExp(LABEL_WORDS, 'gi');
// From a label word: optional closing quote, an assignment, an optional opening quote, the value.
const LABELLED_RE = new RegExp(`(?:${LABEL_WORDS})["']?\\s*(?:=>|:=|=|:)\\s*["']?([^\\s"'\`,;]{8,256})`, 'iy');
const AWS_SECRET_RE = /(?<![A-Za-z0-9\/+])[A-Za-z0-9\/+]{40}(?![A-Za-z0-9\/+=])/g;
const AWS_SECRET_LABEL = /(?:aws_?secret_?(?:access_?)?key|secret_?access_?key|aws_?secret)["']?\s*(?:=>|:=|=|:)?\s*["']?$/i;
const AWS_SECRET_LABEL_G = /aws_?secret_?(?:access_?)?key|secret_?access_?key|aws_?secret/gi;
const AWS_KEY_ID_NEAR = /(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}/;
const AWS_KEY_ID_G = /(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}/g;
const PEM_BEGIN_RE = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----/g;

/**
 * Secrets: fixed-format provider keys, AWS secret keys (only after an access key id within 200
 * characters or an `aws_secret_access_key`-like label), private key blocks, JWTs (header must decode
 * to JSON with `alg`), bearer/Authorization tokens, and `password=`/`api_key=`-like assignments whose
 * value looks random (8+ characters, 2+ character classes, entropy >= 3 bits/char, not a placeholder).
 * Documentation example keys (AKIAIOSFODNN7EXAMPLE) are detected: only their format is known.
 */
export function detectSecrets(text: string, out: RawFinding[]): void {
  const seen = hints(text);
  if (seen.size === 0) return;
  for (const format of FIXED) {
    if (!seen.has(format.hint)) continue;
    format.re.lastIndex = 0;
    for (let m = format.re.exec(text); m !== null; m = format.re.exec(text)) {
      if (format.check !== undefined && !format.check(m[0])) continue;
      push(out, 'secret', m.index, m.index + m[0].length, format.subtype);
    }
  }
  if (seen.has('pem')) detectPrivateKeys(text, out);
  if (seen.has('jwt')) detectJwts(text, out);
  if (seen.has('bearer')) detectBearer(text, out);
  if (seen.has('label')) detectLabelled(text, out);
  if (seen.has('secret') || seen.has('aws')) detectAwsSecrets(text, out);
}

type Hint = 'aws' | 'gh' | 'ghpat' | 'xox' | 'live' | 'sk' | 'aiza' | 'pem' | 'jwt' | 'bearer' | 'label' | 'secret';
// One pass over the lower-cased text finds which detectors can match at all (a superset: the regexes
// decide). Factored by first letter, which irregexp scans faster than a flat alternation.
const HINT_RE = /a(?:kia|sia|bia|cca|iza|uthorization)|gh[pousr]_|github_pat_|xox[abprs]-|[sr]k_live_|sk-|-----begin |eyj|bearer|secret|pass|pwd|key|token/g;

function hints(text: string): Set<Hint> {
  const seen = new Set<Hint>();
  const lower = text.toLowerCase();
  HINT_RE.lastIndex = 0;
  for (let m = HINT_RE.exec(lower); m !== null; m = HINT_RE.exec(lower)) {
    const hit = m[0];
    if (hit === 'akia' || hit === 'asia' || hit === 'abia' || hit === 'acca') seen.add('aws');
    else if (hit.startsWith('gh')) seen.add('gh');
    else if (hit === 'github_pat_') seen.add('ghpat');
    else if (hit.startsWith('xox')) seen.add('xox');
    else if (hit.endsWith('_live_')) seen.add('live');
    else if (hit === 'sk-') seen.add('sk');
    else if (hit === 'aiza') seen.add('aiza');
    else if (hit === '-----begin ') seen.add('pem');
    else if (hit === 'eyj') seen.add('jwt');
    else if (hit === 'bearer' || hit === 'authorization') seen.add('bearer');
    else {
      seen.add('label');
      if (hit === 'secret') seen.add('secret');
    }
  }
  return seen;
}

function labelledValue(text: string, value: string, valueStart: number, subtype: SecretSubtype, out: RawFinding[]): void {
  const trimmed = value.replace(/[.)\]}>]+$/, '');
  if (trimmed.length < 8 || looksLikePlaceholder(trimmed)) return;
  if (charClasses(trimmed) < 2 || shannonEntropy(trimmed) < 3) return;
  push(out, 'secret', valueStart, valueStart + trimmed.length, subtype);
}

function detectBearer(text: string, out: RawFinding[]): void {
  BEARER_RE.lastIndex = 0;
  for (let m = BEARER_RE.exec(text); m !== null; m = BEARER_RE.exec(text)) {
    const value = m[1] ?? '';
    labelledValue(text, value, m.index + m[0].length - value.length, 'bearer_token', out);
  }
}

/** `password=`-like assignments: a label word at a word or `_.-` boundary (DB_PASSWORD, client.secret), then the value. */
function detectLabelled(text: string, out: RawFinding[]): void {
  LABEL_WORD_RE.lastIndex = 0;
  for (let m = LABEL_WORD_RE.exec(text); m !== null; m = LABEL_WORD_RE.exec(text)) {
    LABEL_WORD_RE.lastIndex = m.index + 1;
    const before = m.index > 0 ? text.charCodeAt(m.index - 1) : 32;
    if (isAlnum(before)) continue;
    LABELLED_RE.lastIndex = m.index;
    const label = LABELLED_RE.exec(text);
    if (label === null) continue;
    const value = label[1] ?? '';
    labelledValue(text, value, m.index + label[0].length - value.length, 'generic_secret', out);
    LABEL_WORD_RE.lastIndex = m.index + label[0].length;
  }
}

function isAlnum(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** 40-character AWS secrets in the 240 characters after a key id or an `aws_secret_access_key`-like label. */
function detectAwsSecrets(text: string, out: RawFinding[]): void {
  const anchors: number[] = [];
  for (const re of [AWS_SECRET_LABEL_G, AWS_KEY_ID_G]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) anchors.push(m.index + m[0].length);
  }
  anchors.sort((a, b) => a - b);
  let scanned = 0;
  for (const anchor of anchors) {
    // Scan only the window a match may start in (plus its length and the boundary characters).
    const from = Math.max(anchor, scanned);
    const windowStart = Math.max(0, from - 1);
    const window = text.slice(windowStart, Math.min(text.length, anchor + 242));
    AWS_SECRET_RE.lastIndex = from - windowStart;
    for (let m = AWS_SECRET_RE.exec(window); m !== null; m = AWS_SECRET_RE.exec(window)) {
      const start = windowStart + m.index;
      if (start > anchor + 200) break;
      scanned = start + m[0].length;
      if (!random(m[0])) continue;
      const before = text.slice(Math.max(0, start - 200), start);
      if (!AWS_SECRET_LABEL.test(before.slice(-60)) && !AWS_KEY_ID_NEAR.test(before)) continue;
      push(out, 'secret', start, start + m[0].length, 'aws_secret_access_key');
    }
  }
}

function detectJwts(text: string, out: RawFinding[]): void {
  JWT_RE.lastIndex = 0;
  for (let m = JWT_RE.exec(text); m !== null; m = JWT_RE.exec(text)) {
    if (m[0].length > TOKEN_CAP || !jwtHeaderValid(m[0].slice(0, m[0].indexOf('.')))) continue;
    push(out, 'secret', m.index, m.index + m[0].length, 'jwt');
  }
}

/** Whether a base64url JWT header decodes to a JSON object with a string `alg`. */
export function jwtHeaderValid(segment: string): boolean {
  try {
    const header: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

function detectPrivateKeys(text: string, out: RawFinding[]): void {
  PEM_BEGIN_RE.lastIndex = 0;
  for (let m = PEM_BEGIN_RE.exec(text); m !== null; m = PEM_BEGIN_RE.exec(text)) {
    const { end } = privateKeyBlock(text, m.index, m[0].length);
    push(out, 'secret', m.index, end, 'private_key');
    PEM_BEGIN_RE.lastIndex = end;
  }
}

const PEM_END_RE = /-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g;
const KEY_LINE_RE = /^(?:[A-Za-z0-9+\/=]+|[A-Za-z-]+: .*)$/;
// Line breaks, also JSON-escaped ones (a key inside a JSON string).
const BREAK_RE = /\r?\n|\\r\\n|\\n/g;

/**
 * Extent of the private key block whose header starts at `start`: through its END line; without one,
 * through the last line that still looks like key material (base64 or a `Header: value` line; blank
 * lines are skipped), and never past PRIVATE_KEY_CAP. `settled` is false while text appended later
 * could still extend it (no END, cap not reached, and no complete non-key line after it yet).
 */
export function privateKeyBlock(text: string, start: number, headerLength: number): { end: number; settled: boolean; capped: boolean } {
  const cap = start + PRIVATE_KEY_CAP;
  // Look for END only within the cap and before the next header: many unterminated headers must not
  // each scan the whole text.
  const nextHeader = text.indexOf('-----BEGIN', start + headerLength);
  PEM_END_RE.lastIndex = headerLength;
  const close = PEM_END_RE.exec(text.slice(start, nextHeader < 0 ? cap : Math.min(cap, nextHeader)));
  if (close !== null) return { end: start + close.index + close[0].length, settled: true, capped: false };
  let end = start + headerLength;
  let lineStart = end;
  for (;;) {
    BREAK_RE.lastIndex = lineStart;
    const lineBreak = BREAK_RE.exec(text);
    const lineEnd = lineBreak === null ? text.length : lineBreak.index;
    const line = text.slice(lineStart, lineEnd);
    if (line !== '' && !KEY_LINE_RE.test(line)) return { end, settled: lineBreak !== null, capped: false };
    if (line !== '') end = lineEnd;
    if (end >= cap) return { end: cap, settled: true, capped: true };
    if (lineBreak === null) return { end, settled: false, capped: false };
    lineStart = lineBreak.index + lineBreak[0].length;
  }
}
