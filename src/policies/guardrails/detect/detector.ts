import { detectIban, detectPaymentCard } from './financial.js';
import { normalize } from './normalize.js';
import { detectPhone } from './phone.js';
import { detectEmail, detectIp, detectSsn } from './pii.js';
import { detectSecrets } from './secrets.js';
import { BUILT_IN_ENTITIES, type BuiltInEntity, type CustomEntity, type DetectorOptions, type Finding, type RawFinding } from './types.js';
import { ibanValid, luhnValid } from './validators.js';

/** Finds entities in text. Create once (custom patterns are compiled then), call from any request. */
export interface Detector {
  /** Normalizes `text` and returns findings, sorted by start, with offsets in both texts. */
  detect(text: string): Finding[];
  /** Findings in text that is already normalized (offsets into it), sorted by start. */
  detectNormalized(text: string): RawFinding[];
  /** Built-ins this detector runs. */
  readonly entities: readonly BuiltInEntity[];
  /** Longest custom match (0 without custom entities): streams hold back one less than this. */
  readonly customMaxLength: number;
}

// On overlaps of equal length (secrets aside), the earlier type in this list wins.
const TYPE_PRIORITY = ['secret', 'custom', 'payment_card', 'iban', 'ssn', 'email', 'ip_address', 'phone'];
const SECRET_PRIORITY = ['private_key', 'aws_secret_access_key', 'aws_access_key_id', 'github_token', 'slack_token', 'stripe_key', 'anthropic_key', 'openai_key', 'google_api_key', 'jwt', 'bearer_token', 'generic_secret'];

interface CompiledCustom {
  name: string;
  re: RegExp;
  validator: 'luhn' | 'iban' | 'none';
  maxLength: number;
}

/** Builds a detector for the chosen built-ins (default all) and custom entities; throws on an invalid custom pattern. */
export function createDetector(options: DetectorOptions = {}): Detector {
  const entities = [...(options.entities ?? BUILT_IN_ENTITIES)];
  const on = new Set<string>(entities);
  const custom = (options.custom ?? []).map(compileCustom);
  const customNames = new Set(custom.map((entity) => entity.name));
  const customMaxLength = custom.reduce((max, entity) => Math.max(max, entity.maxLength), 0);

  const detectNormalized = (text: string): RawFinding[] => {
    const out: RawFinding[] = [];
    const digits = countDigits(text);
    if (on.has('secret')) detectSecrets(text, out);
    if (on.has('email')) detectEmail(text, out);
    if (digits >= 7) {
      if (on.has('payment_card')) detectPaymentCard(text, out, digits);
      if (on.has('iban')) detectIban(text, out, digits);
      if (on.has('ssn')) detectSsn(text, out);
      if (on.has('phone')) detectPhone(text, out);
    }
    if (on.has('ip_address') && digits >= 1) detectIp(text, out);
    for (const entity of custom) detectCustom(text, entity, out);
    return resolveOverlaps(out, customNames);
  };

  return {
    entities,
    customMaxLength,
    detectNormalized,
    detect(text: string): Finding[] {
      const normalized = normalize(text);
      return detectNormalized(normalized.text).map((finding) => {
        const [sourceStart, sourceEnd] = normalized.map.range(finding.start, finding.end);
        return { ...finding, sourceStart, sourceEnd };
      });
    },
  };
}

function compileCustom(entity: CustomEntity): CompiledCustom {
  const flags = entity.flags ?? '';
  if (flags.includes('y')) throw new Error(`custom entity ${entity.name}: the y flag is not supported`);
  const re = new RegExp(entity.pattern, flags.includes('g') ? flags : `${flags}g`);
  return { name: entity.name, re, validator: entity.validator ?? 'none', maxLength: entity.maxLength ?? 64 };
}

function detectCustom(text: string, entity: CompiledCustom, out: RawFinding[]): void {
  entity.re.lastIndex = 0;
  for (let m = entity.re.exec(text); m !== null; m = entity.re.exec(text)) {
    if (m[0].length === 0) {
      entity.re.lastIndex += 1;
      continue;
    }
    if (m[0].length > entity.maxLength) continue;
    if (entity.validator === 'luhn' && !luhnValid(m[0])) continue;
    if (entity.validator === 'iban' && !ibanValid(m[0])) continue;
    out.push({ type: entity.name, start: m.index, end: m.index + m[0].length });
  }
}

function rank(finding: RawFinding, customNames: ReadonlySet<string>): number {
  const type = customNames.has(finding.type) && !TYPE_PRIORITY.includes(finding.type) ? 'custom' : finding.type;
  const base = TYPE_PRIORITY.indexOf(type) * 100;
  return finding.type === 'secret' ? base + SECRET_PRIORITY.indexOf(finding.subtype ?? '') : base;
}

/**
 * Non-overlapping findings, sorted by start. Secrets win any overlap (a token used as the user part of
 * a URL must not lose to the longer "e-mail" around it); otherwise the longer finding wins, then the
 * type priority, then the leftmost.
 */
export function resolveOverlaps(findings: RawFinding[], customNames: ReadonlySet<string> = new Set()): RawFinding[] {
  if (findings.length < 2) return findings;
  const secretFirst = (a: RawFinding, b: RawFinding): number => Number(b.type === 'secret') - Number(a.type === 'secret');
  const ordered = [...findings].sort(
    (a, b) => secretFirst(a, b) || b.end - b.start - (a.end - a.start) || rank(a, customNames) - rank(b, customNames) || a.start - b.start,
  );
  // Kept findings stay sorted by start and never overlap, so only the neighbours need checking.
  const kept: RawFinding[] = [];
  for (const finding of ordered) {
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((kept[mid] as RawFinding).start < finding.start) low = mid + 1;
      else high = mid;
    }
    const before = kept[low - 1];
    const after = kept[low];
    if ((before === undefined || before.end <= finding.start) && (after === undefined || finding.end <= after.start)) kept.splice(low, 0, finding);
  }
  return kept;
}

const DIGIT_RE = /\d/g;

/** Digits in `text`, counted up to 13 (the most any prefilter asks for). */
function countDigits(text: string): number {
  DIGIT_RE.lastIndex = 0;
  let count = 0;
  while (count < 13 && DIGIT_RE.test(text)) count += 1;
  return count;
}
