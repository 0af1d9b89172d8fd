/** Built-in entity types the detector knows. */
export const BUILT_IN_ENTITIES = ['email', 'phone', 'ssn', 'payment_card', 'iban', 'ip_address', 'secret'] as const;
export type BuiltInEntity = (typeof BUILT_IN_ENTITIES)[number];

/** Kinds of `secret` findings. */
export type SecretSubtype =
  | 'aws_access_key_id'
  | 'aws_secret_access_key'
  | 'github_token'
  | 'slack_token'
  | 'stripe_key'
  | 'openai_key'
  | 'anthropic_key'
  | 'google_api_key'
  | 'private_key'
  | 'jwt'
  | 'bearer_token'
  | 'generic_secret';

/** A match as a single detector reports it: offsets in the text it was given (the normalized text). */
export interface RawFinding {
  /** Built-in entity name or a custom entity's name. */
  type: string;
  start: number;
  end: number;
  /** Secret kind, phone region, card brand, IP version: a hint, never the value. */
  subtype?: string;
}

/**
 * A finding from `Detector.detect`: `start`/`end` index the normalized text,
 * `sourceStart`/`sourceEnd` the text the caller passed in (mask there to keep the rest untouched).
 */
export interface Finding extends RawFinding {
  sourceStart: number;
  sourceEnd: number;
}

/** A custom entity from config, compiled once by `createDetector`. */
export interface CustomEntity {
  name: string;
  /** Regex source, matched against the normalized text. */
  pattern: string;
  /** Regex flags; `g` is added, `y` is refused. */
  flags?: string;
  /** Extra check on the matched text: `luhn` (its digits), `iban` (country length and mod-97), or `none`. */
  validator?: 'luhn' | 'iban' | 'none';
  /**
   * Longest match that counts (default 64). Longer matches are ignored; streams hold back up to
   * `maxLength - 1` characters while a custom entity is configured, since any regex may match there.
   */
  maxLength?: number;
}

/** Options of `createDetector`. */
export interface DetectorOptions {
  /** Built-ins to run (default: all). */
  entities?: readonly BuiltInEntity[];
  custom?: readonly CustomEntity[];
}
