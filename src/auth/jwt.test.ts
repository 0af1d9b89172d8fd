import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { base64url, CompactSign, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { jwtSchema } from '../config/jwt-schema.js';
import { GatewayError } from '../core/errors.js';
import { createJwtVerifier, looksLikeJwt, type JwtVerifier } from './jwt.js';

const ISSUER = 'https://idp.example.test/realms/acme';
const AUDIENCE = 'breakerbox';
const SECRET = 'a-shared-secret-of-at-least-32-characters!';
/** Claim values no error message may repeat. */
const CLAIM_VALUES = ['alice', 'alice@example.test', 'team-red', ISSUER, 'https://evil.example.test', 'someone-else'];

type Pair = { publicKey: CryptoKey; privateKey: CryptoKey };
let rsa1: Pair;
let rsa2: Pair;
let rsaImpostor: Pair;
let ec: Pair;

/** A JWKS endpoint on 127.0.0.1 whose keys and behaviour each test can change. */
const idp = {
  server: undefined as Server | undefined,
  url: '',
  keys: [] as JWK[],
  fetches: 0,
  mode: 'ok' as 'ok' | 'error' | 'garbage' | 'hang',
};

async function publicJwk(pair: Pair, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
}

before(async () => {
  [rsa1, rsa2, rsaImpostor, ec] = await Promise.all([
    generateKeyPair('RS256'),
    generateKeyPair('RS256'),
    generateKeyPair('RS256'),
    generateKeyPair('ES256'),
  ]);
  idp.server = createServer((req, res) => {
    idp.fetches += 1;
    if (idp.mode === 'hang') return;
    if (idp.mode === 'error') return void res.writeHead(500).end('down');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(idp.mode === 'garbage' ? '{"keys": [' : JSON.stringify({ keys: idp.keys }));
  });
  await new Promise<void>((resolve) => idp.server?.listen(0, '127.0.0.1', resolve));
  idp.url = `http://127.0.0.1:${(idp.server.address() as AddressInfo).port}/jwks.json`;
});

after(() => {
  idp.server?.closeAllConnections();
  idp.server?.close();
});

/** Fresh IdP state and a verifier over it; `extra` overrides config fields. */
async function setup(extra: Record<string, unknown> = {}): Promise<JwtVerifier> {
  idp.fetches = 0;
  idp.mode = 'ok';
  idp.keys = [await publicJwk(rsa1, 'k1', 'RS256')];
  return createJwtVerifier(jwtSchema.parse({ jwks_url: idp.url, issuer: ISSUER, audience: AUDIENCE, ...extra }));
}

interface SignOptions {
  key?: CryptoKey | Uint8Array;
  alg?: string;
  kid?: string | null;
  exp?: number;
  nbf?: number;
  iss?: string;
  aud?: string;
}

const now = (): number => Math.floor(Date.now() / 1000);

function sign(claims: JWTPayload = {}, options: SignOptions = {}): Promise<string> {
  const header: { alg: string; kid?: string } = { alg: options.alg ?? 'RS256' };
  if (options.kid !== null) header.kid = options.kid ?? 'k1';
  const jwt = new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader(header)
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? now() + 300);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? rsa1.privateKey);
}

/** Asserts the failure's code, status and message, and that the message echoes no token or claim value. */
async function rejects(verifier: JwtVerifier, token: string, code: string, message: RegExp): Promise<GatewayError> {
  const error = await verifier.verify(token).then(
    () => assert.fail('the token was accepted'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${String(error)}`);
  assert.equal(error.code, code);
  assert.equal(error.status, code === 'BB_AUTH_UNAVAILABLE' ? 503 : 401);
  assert.match(error.message, message);
  for (const part of [token, ...token.split('.').filter((segment) => segment.length > 8), ...CLAIM_VALUES]) {
    assert.ok(!error.message.includes(part), `the message repeats ${part}`);
  }
  return error;
}

describe('createJwtVerifier: claims', () => {
  it('maps a valid token onto an identity (nested claim, namespaced claim, role_map)', async () => {
    const verifier = await setup({
      claims: { user: 'preferred_username', roles: 'realm_access.roles', team: 'https://acme.test/team' },
      role_map: { 'gateway-admins': 'admin' },
    });
    const exp = now() + 300;
    const token = await sign(
      {
        preferred_username: 'alice@example.test',
        realm_access: { roles: ['gateway-admins', 'viewer', 'offline_access', 'gateway-admins', 42] },
        'https://acme.test/team': 'team-red',
        plan: 'pro',
        org: 'acme',
      },
      { exp },
    );
    const identity = await verifier.verify(token);
    assert.deepEqual({ ...identity }, {
      subject: 'alice',
      user: 'alice@example.test',
      team: 'team-red',
      org: 'acme',
      plan: 'pro',
      roles: ['admin', 'viewer'],
      expiresAt: exp,
    });
  });

  it('reads roles from a space/comma separated string and falls back to default_role', async () => {
    const verifier = await setup({ default_role: 'viewer' });
    assert.deepEqual((await verifier.verify(await sign({ roles: 'team-admin, admin  stranger' }))).roles, ['team-admin', 'admin']);
    assert.deepEqual((await verifier.verify(await sign({ roles: ['stranger'] }))).roles, ['viewer']);
    const plain = await setup();
    const identity = await plain.verify(await sign({ team: 7 }));
    assert.deepEqual(identity.roles, ['member']);
    assert.equal(identity.team, undefined, 'non-string claims are ignored');
  });

  it('refuses a token without the user claim', async () => {
    const verifier = await setup({ claims: { user: 'email' } });
    await rejects(verifier, await sign(), 'BB_INVALID_TOKEN', /lacks the "email" claim/);
  });
});

describe('createJwtVerifier: time, issuer, audience', () => {
  it('refuses an expired token', async () => {
    const verifier = await setup();
    await rejects(verifier, await sign({}, { exp: now() - 120 }), 'BB_INVALID_TOKEN', /has expired/);
  });

  it('refuses a token that is not valid yet', async () => {
    const verifier = await setup();
    await rejects(verifier, await sign({}, { nbf: now() + 120 }), 'BB_INVALID_TOKEN', /not valid yet/);
  });

  it('accepts exp and nbf within the leeway', async () => {
    const verifier = await setup({ leeway_s: 30 });
    assert.equal((await verifier.verify(await sign({}, { exp: now() - 10, nbf: now() + 10 }))).subject, 'alice');
  });

  it('refuses a wrong issuer and a wrong audience', async () => {
    const verifier = await setup({ audience: [AUDIENCE, 'other-app'] });
    await rejects(verifier, await sign({}, { iss: 'https://evil.example.test' }), 'BB_INVALID_TOKEN', /issuer is not accepted/);
    await rejects(verifier, await sign({}, { aud: 'someone-else' }), 'BB_INVALID_TOKEN', /audience is not accepted/);
    assert.equal((await verifier.verify(await sign({}, { aud: 'other-app' }))).subject, 'alice');
  });
});

describe('createJwtVerifier: signatures and algorithms', () => {
  it('refuses a token signed by another key under the same kid', async () => {
    const verifier = await setup();
    await rejects(verifier, await sign({}, { key: rsaImpostor.privateKey }), 'BB_INVALID_TOKEN', /signature is not valid/);
  });

  it('refuses an HS256 token when only RS256 is allowed, and alg none, without fetching the JWKS', async () => {
    const verifier = await setup({ algorithms: ['RS256'] });
    const hs = await sign({}, { alg: 'HS256', key: new TextEncoder().encode(SECRET) });
    await rejects(verifier, hs, 'BB_INVALID_TOKEN', /signing algorithm is not accepted/);
    const encode = (value: object) => base64url.encode(JSON.stringify(value));
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'alice', iss: ISSUER, aud: AUDIENCE, exp: now() + 300 })}.`;
    assert.ok(looksLikeJwt(unsigned));
    await rejects(verifier, unsigned, 'BB_INVALID_TOKEN', /signing algorithm is not accepted/);
    assert.equal(idp.fetches, 0);
  });

  it('refuses a malformed token', async () => {
    const verifier = await setup();
    await rejects(verifier, 'eyJhbGciOg.e30.c2ln', 'BB_INVALID_TOKEN', /is malformed/);
    const notJson = await new CompactSign(new TextEncoder().encode('not json')).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(rsa1.privateKey);
    await rejects(verifier, notJson, 'BB_INVALID_TOKEN', /is malformed/);
  });
});

describe('createJwtVerifier: JWKS fetching', () => {
  it('refetches once for an unknown kid and succeeds after the IdP rotated its keys', async () => {
    const verifier = await setup({ jwks_cooldown_ms: 100 });
    await verifier.verify(await sign());
    assert.equal(idp.fetches, 1);
    idp.keys = [await publicJwk(rsa2, 'k2', 'RS256')];
    await sleep(150);
    const identity = await verifier.verify(await sign({}, { key: rsa2.privateKey, kid: 'k2' }));
    assert.equal(identity.subject, 'alice');
    assert.equal(idp.fetches, 2);
    await verifier.verify(await sign({ jti: 'another' }, { key: rsa2.privateKey, kid: 'k2' }));
    assert.equal(idp.fetches, 2, 'a known kid needs no fetch');
  });

  it('tries each JWKS key that fits a token without a kid', async () => {
    const verifier = await setup();
    idp.keys.push(await publicJwk(rsa2, 'k2', 'RS256'));
    assert.equal((await verifier.verify(await sign({}, { key: rsa2.privateKey, kid: null }))).subject, 'alice');
    await rejects(verifier, await sign({}, { key: rsaImpostor.privateKey, kid: null }), 'BB_INVALID_TOKEN', /signature is not valid/);
    assert.equal(idp.fetches, 1);
  });

  it('does not hammer the IdP with unknown kids inside the cooldown', async () => {
    const verifier = await setup();
    await verifier.verify(await sign());
    for (let i = 0; i < 5; i++) {
      const token = await sign({ jti: String(i) }, { key: rsa2.privateKey, kid: `unknown-${i}` });
      await rejects(verifier, token, 'BB_INVALID_TOKEN', /key the gateway does not know/);
    }
    assert.equal(idp.fetches, 1);
  });

  it('answers 503 BB_AUTH_UNAVAILABLE, not 401, when the JWKS cannot be had', async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const port = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    const refused = createJwtVerifier(jwtSchema.parse({ jwks_url: `http://127.0.0.1:${port}/jwks`, issuer: ISSUER, audience: AUDIENCE }));
    const token = await sign();
    const error = await rejects(refused, token, 'BB_AUTH_UNAVAILABLE', /could not be fetched/);
    assert.equal(error.retryable, true);

    for (const mode of ['error', 'garbage', 'hang'] as const) {
      const verifier = await setup({ jwks_timeout_ms: 200 });
      idp.mode = mode;
      await rejects(verifier, token, 'BB_AUTH_UNAVAILABLE', /could not be fetched/);
    }
    idp.mode = 'ok';
  });
});

describe('createJwtVerifier: static keys', () => {
  it('verifies with a PEM key, choosing among kid-less keys by trying each', async () => {
    const verifier = createJwtVerifier(
      jwtSchema.parse({
        keys: [{ pem: await exportSPKI(rsa1.publicKey) }, { pem: await exportSPKI(rsa2.publicKey) }],
        issuer: [ISSUER, 'https://second.example.test'],
        audience: AUDIENCE,
      }),
    );
    assert.equal((await verifier.verify(await sign({}, { key: rsa2.privateKey, kid: null }))).subject, 'alice');
    assert.equal((await verifier.verify(await sign({}, { key: rsa1.privateKey, kid: 'anything' }))).subject, 'alice');
    await rejects(verifier, await sign({}, { key: rsaImpostor.privateKey, kid: null }), 'BB_INVALID_TOKEN', /signature is not valid/);
    await rejects(verifier, await sign({}, { key: ec.privateKey, alg: 'ES256' }), 'BB_INVALID_TOKEN', /key the gateway does not know/);
  });

  it('verifies with a JWK, selected by kid', async () => {
    const verifier = createJwtVerifier(
      jwtSchema.parse({
        keys: [{ pem: await exportSPKI(rsa1.publicKey), kid: 'rsa' }, { jwk: await publicJwk(ec, 'ec-1', 'ES256') }],
        issuer: ISSUER,
        audience: AUDIENCE,
      }),
    );
    assert.equal((await verifier.verify(await sign({}, { key: ec.privateKey, alg: 'ES256', kid: 'ec-1' }))).subject, 'alice');
    await rejects(verifier, await sign({}, { key: rsa1.privateKey, kid: 'ec-1' }), 'BB_INVALID_TOKEN', /key the gateway does not know/);
  });

  it('verifies HS256 with a shared secret', async () => {
    const verifier = createJwtVerifier(
      jwtSchema.parse({ keys: [{ secret: SECRET }], algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE }),
    );
    const key = new TextEncoder().encode(SECRET);
    assert.equal((await verifier.verify(await sign({}, { alg: 'HS256', key, kid: null }))).subject, 'alice');
    const forged = await sign({}, { alg: 'HS256', key: new TextEncoder().encode(`${SECRET}-not`), kid: null });
    await rejects(verifier, forged, 'BB_INVALID_TOKEN', /signature is not valid/);
  });
});

describe('createJwtVerifier: verified-token cache', () => {
  it('skips the check for a reused token and still refuses it once expired', async () => {
    // A 1 ms JWKS cache: any real verification would refetch, so the fetch count shows cache hits.
    const verifier = await setup({ leeway_s: 0, jwks_cache_ms: 1 });
    const token = await sign({}, { exp: now() + 1 });
    const first = await verifier.verify(token);
    assert.equal(idp.fetches, 1);
    await sleep(5);
    assert.equal(await verifier.verify(token), first, 'served from the cache');
    assert.equal(idp.fetches, 1);
    await verifier.verify(await sign({ jti: 'other' }));
    assert.equal(idp.fetches, 2, 'a new token is verified against a refetched JWKS');
    await sleep(Math.max(0, (now() + 1) * 1000 - Date.now()) + 50);
    await rejects(verifier, token, 'BB_INVALID_TOKEN', /has expired/);
  });
});

describe('looksLikeJwt', () => {
  it('tells JWTs from virtual keys', async () => {
    assert.equal(looksLikeJwt(await sign()), true);
    assert.equal(looksLikeJwt('bb-quickstart-key'), false);
    assert.equal(looksLikeJwt('bb-eyJ.abc.def'), false);
    assert.equal(looksLikeJwt('eyJhbGciOiJIUzI1NiJ9.e30'), false);
    assert.equal(looksLikeJwt('eyJhbGciOiJIUzI1NiJ9.e30.sig.extra'), false);
    assert.equal(looksLikeJwt('eyJhbGci OiJIUzI1NiJ9.e30.sig'), false);
  });
});

describe('jwtSchema', () => {
  const base = { issuer: ISSUER, audience: AUDIENCE };
  const messages = (input: unknown): string[] => {
    const result = jwtSchema.safeParse(input);
    assert.equal(result.success, false);
    return result.error?.issues.map((issue) => issue.message) ?? [];
  };

  it('applies defaults', () => {
    const config = jwtSchema.parse({ ...base, jwks_url: 'https://idp.example.test/jwks' });
    assert.deepEqual(config.algorithms, ['RS256', 'PS256', 'ES256', 'EdDSA']);
    assert.equal(config.leeway_s, 30);
    assert.equal(config.jwks_cache_ms, 600_000);
    assert.equal(config.jwks_cooldown_ms, 30_000);
    assert.equal(config.jwks_timeout_ms, 5_000);
    assert.deepEqual(config.claims, { user: 'sub', team: 'team', roles: 'roles', plan: 'plan', org: 'org' });
    assert.equal(config.default_role, 'member');
  });

  it('needs jwks_url or keys', () => {
    assert.ok(messages(base).some((message) => /jwks_url, keys, or both/.test(message)));
  });

  it('refuses HS256 without a secret key, a secret without HS*, and alg none', () => {
    assert.ok(messages({ ...base, jwks_url: 'https://idp.example.test/jwks', algorithms: ['HS256'] }).some((m) => /need a key with a `secret`/.test(m)));
    assert.ok(messages({ ...base, keys: [{ secret: SECRET }] }).some((m) => /only used with HS/.test(m)));
    assert.ok(messages({ ...base, jwks_url: 'https://idp.example.test/jwks', algorithms: ['RS256', 'none'] }).some((m) => /"none".*never accepted/.test(m)));
  });

  it('refuses bad static keys', async () => {
    const pem = await exportSPKI(rsa1.publicKey);
    assert.ok(messages({ ...base, keys: [{ pem, secret: SECRET }] }).some((m) => /exactly one of pem, jwk or secret/.test(m)));
    assert.ok(messages({ ...base, keys: [{ secret: 'short' }] }).some((m) => /at least 32/.test(m)));
    assert.ok(messages({ ...base, keys: [{ pem: 'not a pem' }] }).length > 0);
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    assert.ok(messages({ ...base, keys: [{ jwk: await exportJWK(privateKey) }] }).some((m) => /public key/.test(m)));
    assert.ok(messages({ ...base, leeway_s: 301, jwks_url: 'https://idp.example.test/jwks' }).length > 0);
  });
});
