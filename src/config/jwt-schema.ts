import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { z } from 'zod';
import { ROLES } from '../core/principal.js';

/**
 * Config for `auth.jwt`: callers present a JWT from an identity provider instead of a gateway key.
 * Kept in its own file so schema.ts stays readable; schema.ts places it under `auth`.
 */

/** Signature algorithms the gateway can check; `none` is deliberately absent. */
export const JWT_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
  'HS256', 'HS384', 'HS512',
] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

const isHmac = (alg: string): boolean => alg.startsWith('HS');

const algorithm = z.enum(JWT_ALGORITHMS, {
  error: (issue) =>
    issue.input === 'none'
      ? 'alg "none" (unsigned tokens) is never accepted'
      : `expected one of: ${JWT_ALGORITHMS.join(', ')}`,
});

/** Whether node can read the value as a public key; checked here so a bad key fails at config load. */
function isPublicKey(input: string | Record<string, unknown>): boolean {
  try {
    const key = typeof input === 'string' ? createPublicKey(input) : createPublicKey({ key: input as JsonWebKey, format: 'jwk' });
    return key.type === 'public';
  } catch {
    return false;
  }
}

const publicJwkSchema = z
  .looseObject({
    kty: z.enum(['RSA', 'EC', 'OKP'], { error: 'expected kty RSA, EC or OKP (put shared secrets under `secret`)' }),
    kid: z.string().min(1).optional(),
    alg: algorithm.optional(),
  })
  .refine((jwk) => !('d' in jwk), 'must be a public key: remove the private "d" member')
  .refine((jwk) => isPublicKey(jwk), 'is not a usable public JWK')
  .describe('A public JWK, e.g. one entry copied from the identity provider\'s JWKS.');

const staticKeySchema = z
  .strictObject({
    kid: z.string().min(1).optional().describe('Key id; tokens whose header names this kid are checked with this key only.'),
    pem: z
      .string()
      .refine((pem) => pem.includes('-----BEGIN PUBLIC KEY-----') && isPublicKey(pem), 'expected an SPKI public key PEM (-----BEGIN PUBLIC KEY-----)')
      .optional()
      .describe('SPKI public key in PEM form (RSA, EC or Ed25519).'),
    jwk: publicJwkSchema.optional(),
    secret: z
      .string()
      .min(32, 'a shared secret needs at least 32 characters')
      .optional()
      .describe('Shared secret for HS256/384/512. Use ${env:NAME}; never commit it.'),
  })
  .refine((key) => [key.pem, key.jwk, key.secret].filter((value) => value !== undefined).length === 1, 'set exactly one of pem, jwk or secret')
  .describe('A verification key held in config, for providers without a JWKS endpoint or for tests.');

export type JwtStaticKeyConfig = z.output<typeof staticKeySchema>;

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const claimPath = z.string().min(1);

const claimsSchema = z
  .strictObject({
    user: claimPath.default('sub').describe('Claim holding the user name; a token without it is refused.'),
    team: claimPath.default('team').describe('Claim holding the team name.'),
    roles: claimPath.default('roles').describe('Claim holding roles: an array of strings or one space/comma separated string.'),
    plan: claimPath.default('plan').describe('Claim holding the plan name.'),
    org: claimPath.default('org').describe('Claim holding the organisation id.'),
  })
  .prefault({})
  .describe('Where the gateway reads its fields from. Dot paths reach nested claims, e.g. realm_access.roles; a claim named with dots (e.g. a URL) is found first.');

export const jwtSchema = z
  .strictObject({
    jwks_url: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('The identity provider\'s JWKS endpoint, e.g. https://idp.example.com/.well-known/jwks.json.'),
    keys: z.array(staticKeySchema).min(1).optional().describe('Static verification keys, checked besides (or instead of) the JWKS.'),
    issuer: stringOrList.describe('Accepted `iss` value(s); a token from any other issuer is refused.'),
    audience: stringOrList.describe('Accepted `aud` value(s); the token must name at least one.'),
    algorithms: z
      .array(algorithm)
      .min(1)
      .default(['RS256', 'PS256', 'ES256', 'EdDSA'])
      .describe('Accepted `alg` values. HS256/384/512 need a `secret` key; `none` is never accepted.'),
    leeway_s: z
      .number()
      .int()
      .nonnegative()
      .max(300)
      .default(30)
      .describe('Clock tolerance in seconds for exp, nbf and iat.'),
    jwks_cache_ms: z
      .number()
      .int()
      .positive()
      .default(600_000)
      .describe('How long a fetched JWKS is trusted before it is fetched again.'),
    jwks_cooldown_ms: z
      .number()
      .int()
      .nonnegative()
      .default(30_000)
      .describe('Least time between JWKS refetches triggered by a token with an unknown kid (protects the identity provider).'),
    jwks_timeout_ms: z
      .number()
      .int()
      .positive()
      .default(5_000)
      .describe('Time allowed for one JWKS fetch; past it the request gets 503 BB_AUTH_UNAVAILABLE.'),
    claims: claimsSchema,
    role_map: z
      .record(z.string().min(1), z.enum(ROLES))
      .optional()
      .describe('External role -> gateway role, e.g. { "gateway-admins": "admin" }. Roles named like a gateway role map to themselves; others are ignored.'),
    default_role: z.enum(ROLES).default('member').describe('The gateway role of a token that carries none.'),
  })
  .refine((jwt) => jwt.jwks_url !== undefined || jwt.keys !== undefined, 'set jwks_url, keys, or both: the gateway needs a key to check tokens with')
  .refine((jwt) => !jwt.algorithms.some(isHmac) || (jwt.keys ?? []).some((key) => key.secret !== undefined), {
    message: 'HS256/384/512 need a key with a `secret` under keys',
    path: ['algorithms'],
  })
  .refine((jwt) => !(jwt.keys ?? []).some((key) => key.secret !== undefined) || jwt.algorithms.some(isHmac), {
    message: 'a `secret` key is only used with HS256/384/512: add one of them to algorithms',
    path: ['algorithms'],
  })
  .describe('Accept JWTs from an OIDC identity provider as bearer credentials.');

/** The parsed `auth.jwt` block, defaults applied: what `createJwtVerifier` is built from. */
export type JwtConfig = z.output<typeof jwtSchema>;
