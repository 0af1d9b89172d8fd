import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Prefix of every key the gateway mints, so leaked keys are recognisable (and scannable). */
export const KEY_PREFIX = 'bb-';

/**
 * sha256 hex of a key. Minted keys carry 190 bits of randomness, so a fast hash is enough: there
 * is nothing to brute-force. Lookups go through a map of hashes, so the secret is never compared.
 */
export function hashKey(key: string): string {
  // The one-shot form: createHash() allocates a Hash object per request.
  return hash('sha256', key, 'hex');
}

/** `bb-quickstart-key` -> `bb-quic…`: enough to tell keys apart in logs, too little to use. */
export function displayPrefix(key: string): string {
  return `${key.slice(0, Math.min(7, Math.floor(key.length / 2)))}…`;
}

/** A new key: `bb-` and 32 base62 characters (about 190 bits). Shown once, stored only as a hash. */
export function generateApiKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = KEY_PREFIX;
  // Rejection sampling keeps every character uniform (256 is not a multiple of 62).
  while (out.length < KEY_PREFIX.length + 32) {
    for (const byte of randomBytes(48)) {
      if (byte < 248 && out.length < KEY_PREFIX.length + 32) out += alphabet[byte % 62];
    }
  }
  return out;
}

/** Compares two secrets in time independent of where they differ (both are hashed first). */
export function secretsEqual(a: string, b: string): boolean {
  return timingSafeEqual(Buffer.from(hashKey(a), 'hex'), Buffer.from(hashKey(b), 'hex'));
}

/** Reads the credential from `Authorization: Bearer …` or `x-api-key` (what Anthropic clients send). */
export function extractCredential(headers: RequestHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
}
