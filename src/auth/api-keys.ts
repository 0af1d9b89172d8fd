import { hash } from 'node:crypto';
import { GatewayError } from '../core/errors.js';
import { ANONYMOUS_PRINCIPAL, type Principal } from '../core/principal.js';

export interface StaticKey {
  name: string;
  key: string;
  models?: readonly string[];
}

export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** Resolves the caller of a request; throws a 401 GatewayError when it cannot. */
export type Authenticator = (headers: RequestHeaders) => Principal;

export function hashKey(key: string): string {
  // The one-shot form: createHash() allocates a Hash object per request.
  return hash('sha256', key, 'hex');
}

/** `bb-quickstart-key` -> `bb-quic…`: enough to tell keys apart in logs, too little to use. */
export function displayPrefix(key: string): string {
  return `${key.slice(0, Math.min(7, Math.floor(key.length / 2)))}…`;
}

/** Reads the key from `Authorization: Bearer …` or `x-api-key` (what Anthropic clients send). */
export function extractApiKey(headers: RequestHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (match) return match[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() !== '' ? apiKey.trim() : undefined;
}

/**
 * Static keys from config. Only their hashes are kept in memory, so a heap dump or a log of this
 * structure reveals no key; lookup is one hash and one map read, no I/O.
 */
export function createStaticKeyAuthenticator(keys: readonly StaticKey[], disabled: boolean): Authenticator {
  const byHash = new Map<string, Principal>();
  for (const entry of keys) {
    const hash = hashKey(entry.key);
    const principal: Principal = { keyId: `static:${entry.name}`, keyName: entry.name, displayPrefix: displayPrefix(entry.key) };
    if (entry.models) principal.allowedModels = new Set(entry.models);
    byHash.set(hash, principal);
  }
  return (headers) => {
    const key = extractApiKey(headers);
    if (key === undefined) {
      if (disabled) return ANONYMOUS_PRINCIPAL;
      throw new GatewayError('BB_UNAUTHENTICATED', 'No API key was sent. Send it as "Authorization: Bearer <key>".');
    }
    const principal = byHash.get(hashKey(key));
    if (principal) return principal;
    if (disabled) return ANONYMOUS_PRINCIPAL;
    throw new GatewayError('BB_INVALID_API_KEY', 'The API key is not valid.');
  };
}
