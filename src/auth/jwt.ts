import { createPublicKey, hash, type JsonWebKey } from 'node:crypto';
import { createRemoteJWKSet, errors, importJWK, importSPKI, jwtVerify } from 'jose';
import type { CompactJWSHeaderParameters, CryptoKey, FlattenedJWSInput, JWK, JWTPayload, JWTVerifyOptions } from 'jose';
import type { JwtConfig, JwtStaticKeyConfig } from '../config/jwt-schema.js';
import { GatewayError } from '../core/errors.js';
import { ROLES, type Role } from '../core/principal.js';

/**
 * Bearer JWTs from an OIDC identity provider. jose does the cryptography and the JWKS fetching;
 * this file picks keys, maps jose's failures onto the error registry and the claims onto gateway
 * fields, and caches verified tokens so a client reusing its token costs one hash and a map read.
 */

/** What a verified token says about its caller; `auth/` turns it into a Principal. */
export interface JwtIdentity {
  subject: string;
  user?: string;
  team?: string;
  org?: string;
  plan?: string;
  roles: Role[];
  /** Unix seconds; the token is refused from then on (plus the configured leeway). */
  expiresAt?: number;
}

/** Checks one bearer token; rejects with a client-safe GatewayError (401, or 503 if the IdP is unreachable). */
export interface JwtVerifier {
  verify(token: string): Promise<JwtIdentity>;
}

const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;

/**
 * Tells JWTs from gateway keys (`bb-...`) without decoding, so a request carrying a virtual key
 * never pays for JWT parsing. An empty signature still matches: `alg: none` tokens then get a clear 401.
 */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && JWT_SHAPE.test(token);
}

const MAX_CACHED_TOKENS = 10_000;

type VerifyKey = CryptoKey | Uint8Array;
/** The kind of key an algorithm needs: `RSA`, a curve name, or `secret`. */
type KeyFamily = string;

/** Key families each algorithm can be checked with, so a key is never tried with an alg it cannot serve. */
function familiesFor(alg: string): readonly KeyFamily[] {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return ['RSA'];
  if (alg.startsWith('HS')) return ['secret'];
  const families: Record<string, readonly KeyFamily[]> = {
    ES256: ['P-256'], ES384: ['P-384'], ES512: ['P-521'], EdDSA: ['Ed25519', 'Ed448'], Ed25519: ['Ed25519'],
  };
  return families[alg] ?? [];
}

interface StaticKey {
  kid: string | undefined;
  family: KeyFamily;
  /** A JWK's own `alg`, when it names one: the key serves no other. */
  alg: string | undefined;
  load(alg: string): Promise<VerifyKey>;
}

/** Imports a configured key once per algorithm (WebCrypto keys are bound to one). */
function prepareStaticKey(config: JwtStaticKeyConfig, index: number): StaticKey {
  const memo = new Map<string, Promise<VerifyKey>>();
  const once = (alg: string, importer: () => Promise<VerifyKey>): Promise<VerifyKey> => {
    let key = memo.get(alg);
    if (!key) memo.set(alg, (key = importer()));
    return key;
  };
  if (config.secret !== undefined) {
    const bytes = new TextEncoder().encode(config.secret);
    return { kid: config.kid, family: 'secret', alg: undefined, load: async () => bytes };
  }
  const jwk = config.jwk as JWK | undefined;
  let family: KeyFamily;
  try {
    const keyObject = createPublicKey(config.pem ?? { key: config.jwk as JsonWebKey, format: 'jwk' });
    const exported = keyObject.export({ format: 'jwk' });
    family = exported.kty === 'RSA' ? 'RSA' : String(exported.crv);
  } catch (cause) {
    throw new Error(`auth.jwt.keys[${index}] is not a usable public key`, { cause });
  }
  const pem = config.pem;
  return {
    kid: config.kid ?? jwk?.kid,
    family,
    alg: jwk?.alg,
    load: (alg) => once(alg, async () => (pem !== undefined ? importSPKI(pem, alg) : (importJWK(jwk as JWK, alg) as Promise<VerifyKey>))),
  };
}

/** Thrown by the key resolver when several static keys fit; `verifyPayload` then tries each. */
class SeveralKeys extends Error {
  constructor(readonly keys: AsyncIterable<VerifyKey>) {
    super('several keys fit the token');
  }
}

async function* loadAll(keys: readonly StaticKey[], alg: string): AsyncGenerator<VerifyKey> {
  for (const key of keys) {
    try {
      yield await key.load(alg);
    } catch {
      // A key that cannot serve this alg (e.g. an RSA-PSS-only key for RS256) is simply not a candidate.
    }
  }
}

/** Reads a claim by exact name first (namespaced claims are URLs with dots), then as a dot path. */
function claimReader(path: string): (payload: JWTPayload) => unknown {
  const parts = path.split('.');
  return (payload) => {
    if (Object.hasOwn(payload, path)) return payload[path];
    if (parts.length === 1) return undefined;
    let node: unknown = payload;
    for (const part of parts) {
      if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, part)) return undefined;
      node = (node as Record<string, unknown>)[part];
    }
    return node;
  };
}

const asString = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

const invalid = (message: string): GatewayError => new GatewayError('BB_INVALID_TOKEN', message);

/** Names the failed check; never the token or a claim value (jose's own messages can hold neither safely). */
function mapJoseError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof errors.JWTExpired) return invalid('The bearer token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return invalid("The bearer token's issuer is not accepted.");
    if (error.claim === 'aud') return invalid("The bearer token's audience is not accepted.");
    if (error.claim === 'nbf' && error.reason === 'check_failed') return invalid('The bearer token is not valid yet.');
    if (error.claim === 'iat' && error.reason === 'check_failed') return invalid("The bearer token's issued-at time is in the future.");
    return invalid(`The bearer token's "${error.claim}" claim is missing or malformed.`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid("The bearer token's signature is not valid.");
  if (error instanceof errors.JWKSNoMatchingKey) return invalid('The bearer token is signed with a key the gateway does not know.');
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return invalid("The bearer token's signing algorithm is not accepted.");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return invalid('The bearer token is malformed.');
  return invalid('The bearer token could not be verified.');
}

/**
 * Builds the verifier once at startup: static keys are classified now (a bad one fails loudly), the
 * JWKS is fetched on first use and then cached, refetched on an unknown kid at most once per cooldown.
 */
export function createJwtVerifier(config: JwtConfig): JwtVerifier {
  const statics = (config.keys ?? []).map(prepareStaticKey);
  const remote = config.jwks_url
    ? createRemoteJWKSet(new URL(config.jwks_url), {
        cacheMaxAge: config.jwks_cache_ms,
        cooldownDuration: config.jwks_cooldown_ms,
        timeoutDuration: config.jwks_timeout_ms,
      })
    : undefined;
  const options: JWTVerifyOptions = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: config.algorithms,
    clockTolerance: config.leeway_s,
  };

  // Gateway role names map to themselves; role_map entries win. A Map, so "__proto__" is just a string.
  const roleMap = new Map<string, Role>(ROLES.map((role) => [role, role]));
  for (const [external, role] of Object.entries(config.role_map ?? {})) roleMap.set(external, role);
  const read = {
    user: claimReader(config.claims.user),
    team: claimReader(config.claims.team),
    roles: claimReader(config.claims.roles),
    plan: claimReader(config.claims.plan),
    org: claimReader(config.claims.org),
  };

  const fromRemote = async (header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey> => {
    if (!remote) throw new errors.JWKSNoMatchingKey();
    try {
      return await remote(header, token);
    } catch (error) {
      const aboutToken =
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported;
      if (aboutToken) throw error;
      // Fetch failed, timed out, non-200, not JSON, not a key set: the client is not at fault.
      throw new GatewayError('BB_AUTH_UNAVAILABLE', "The identity provider's signing keys could not be fetched, so the bearer token could not be checked. Try again shortly.", { cause: error });
    }
  };

  /**
   * Static keys named by the token's kid first; then the JWKS; then static keys without a kid
   * (for them a kid is only a hint). A token without a kid tries the static keys that fit its alg.
   */
  const resolveKey = async (header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<VerifyKey> => {
    const alg = header.alg ?? '';
    const families = familiesFor(alg);
    const fitting = statics.filter((key) => families.includes(key.family) && (key.alg === undefined || key.alg === alg));
    let candidates = header.kid === undefined ? fitting : fitting.filter((key) => key.kid === header.kid);
    if (candidates.length === 0 && remote) return fromRemote(header, token);
    if (candidates.length === 0) candidates = fitting.filter((key) => key.kid === undefined);
    if (candidates.length === 0) throw new errors.JWKSNoMatchingKey();
    if (candidates.length === 1) return (candidates[0] as StaticKey).load(alg);
    throw new SeveralKeys(loadAll(candidates, alg));
  };

  const verifyPayload = async (token: string): Promise<JWTPayload> => {
    try {
      return (await jwtVerify(token, resolveKey, options)).payload;
    } catch (error) {
      let keys: AsyncIterable<VerifyKey>;
      if (error instanceof SeveralKeys) keys = error.keys;
      else if (error instanceof errors.JWKSMultipleMatchingKeys) keys = error;
      else throw error;
      let last: unknown = new errors.JWKSNoMatchingKey();
      for await (const key of keys) {
        try {
          return (await jwtVerify(token, key, options)).payload;
        } catch (attempt) {
          if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
          last = attempt;
        }
      }
      throw last;
    }
  };

  const toIdentity = (payload: JWTPayload): JwtIdentity => {
    const user = asString(read.user(payload));
    if (user === undefined) throw invalid(`The bearer token lacks the "${config.claims.user}" claim that names the user.`);
    const rawRoles = read.roles(payload);
    const list: unknown[] = typeof rawRoles === 'string' ? rawRoles.split(/[\s,]+/) : Array.isArray(rawRoles) ? rawRoles : [];
    const roles: Role[] = [];
    for (const item of list) {
      const role = typeof item === 'string' ? roleMap.get(item) : undefined;
      if (role !== undefined && !roles.includes(role)) roles.push(role);
    }
    if (roles.length === 0) roles.push(config.default_role);
    const identity: JwtIdentity = { subject: asString(payload.sub) ?? user, user, roles };
    const team = asString(read.team(payload));
    const org = asString(read.org(payload));
    const plan = asString(read.plan(payload));
    if (team !== undefined) identity.team = team;
    if (org !== undefined) identity.org = org;
    if (plan !== undefined) identity.plan = plan;
    if (typeof payload.exp === 'number') identity.expiresAt = payload.exp;
    Object.freeze(roles);
    return Object.freeze(identity);
  };

  // Keyed by the token's sha256, never the token: a heap dump of the cache reveals no credential.
  const cache = new Map<string, { identity: JwtIdentity; validUntilMs: number }>();
  const pending = new Map<string, Promise<JwtIdentity>>();

  const verifyFresh = async (token: string, id: string): Promise<JwtIdentity> => {
    let identity: JwtIdentity;
    try {
      identity = toIdentity(await verifyPayload(token));
    } catch (error) {
      throw mapJoseError(error);
    }
    // Without exp, trust the verdict no longer than the key set it was checked against.
    const validUntilMs =
      identity.expiresAt !== undefined ? (identity.expiresAt + config.leeway_s) * 1000 : Date.now() + config.jwks_cache_ms;
    if (cache.size >= MAX_CACHED_TOKENS) cache.delete(cache.keys().next().value as string);
    cache.set(id, { identity, validUntilMs });
    return identity;
  };

  return {
    verify(token) {
      const id = hash('sha256', token, 'base64url');
      const hit = cache.get(id);
      if (hit !== undefined) {
        if (Date.now() < hit.validUntilMs) return Promise.resolve(hit.identity);
        cache.delete(id); // expired: jose re-checks it and names the failure
      }
      // Concurrent requests with the same new token share one verification.
      let inFlight = pending.get(id);
      if (inFlight === undefined) {
        inFlight = verifyFresh(token, id).finally(() => pending.delete(id));
        pending.set(id, inFlight);
      }
      return inFlight;
    },
  };
}
