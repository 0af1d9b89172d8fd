import type { Config } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import { ANONYMOUS_PRINCIPAL, type Principal } from '../core/principal.js';
import type { RecordStore } from '../store/record-store.js';
import type { IdentitySnapshot } from '../store/records.js';
import { buildIdentityTables, buildPrincipal, validLimits, type IdentityTables } from './identity-tables.js';
import { createJwtVerifier, looksLikeJwt, type JwtIdentity, type JwtVerifier } from './jwt.js';
import { extractCredential, hashKey, type RequestHeaders } from './key-secrets.js';

export interface IdentityOptions {
  /** Told once when the store cannot be read, and once when it can again. */
  onStoreTrouble?: (problem: 'unreachable' | 'recovered', error?: unknown) => void;
}

/**
 * Resolves callers to principals with no I/O on the hot path: static keys, the store's virtual
 * keys, teams, users and plans live in in-memory tables. Every `store.refresh_ms` the store's
 * revision is read (one small query); when it moved, the tables are rebuilt and swapped in. That
 * interval bounds how long another instance's revoke takes to reach this one.
 */
export class Identity {
  private tables: IdentityTables;
  /** The store's records behind `tables`, so a config reload can rebuild them while the store is down. */
  private snapshot: IdentitySnapshot | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private storeDown = false;
  private jwt: JwtVerifier | undefined;
  /** The verifier hands back the same identity object for a cached token: build its principal once per table set. */
  private tokenPrincipals = new WeakMap<JwtIdentity, { tables: IdentityTables; principal: Principal }>();

  private constructor(
    private config: Config,
    readonly store: RecordStore | undefined,
    private readonly options: IdentityOptions,
  ) {
    this.tables = buildIdentityTables(config, undefined);
    this.jwt = config.auth.jwt ? createJwtVerifier(config.auth.jwt) : undefined;
  }

  /** Reads the store once (failing if it cannot), then keeps the tables fresh in the background. */
  static async open(config: Config, store: RecordStore | undefined, options: IdentityOptions = {}): Promise<Identity> {
    const identity = new Identity(config, store, options);
    if (store) {
      identity.snapshot = await store.snapshot();
      identity.tables = buildIdentityTables(config, identity.snapshot);
      identity.timer = setInterval(() => void identity.refresh().catch(() => undefined), config.store.refresh_ms);
      identity.timer.unref();
    }
    return identity;
  }

  /**
   * Builds the tables for a reloaded config (static keys, plans, teams, auth settings) from the
   * store's current records, or its last ones when it cannot be read. The returned function swaps
   * them in synchronously, so the caller can swap its runtime in the same tick. `store.*` is not
   * reloadable: the refresh interval stays as started.
   */
  async prepareReconfigure(config: Config): Promise<() => void> {
    let snapshot = this.snapshot;
    if (this.store) snapshot = await this.store.snapshot().catch(() => this.snapshot);
    const tables = buildIdentityTables(config, snapshot);
    const sameJwt = JSON.stringify(config.auth.jwt) === JSON.stringify(this.config.auth.jwt);
    // A new verifier only when its settings changed: it holds the JWKS and verified-token caches.
    const jwt = sameJwt ? this.jwt : config.auth.jwt ? createJwtVerifier(config.auth.jwt) : undefined;
    return () => {
      this.config = config;
      this.snapshot = snapshot;
      this.tables = tables;
      this.jwt = jwt;
    };
  }

  get current(): IdentityTables {
    return this.tables;
  }

  /**
   * Brings the tables up to the store's revision now. The admin API awaits this after every
   * change, so the instance that revoked a key refuses it from the next request on.
   */
  refresh(): Promise<void> {
    this.refreshing ??= this.reload().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async reload(): Promise<void> {
    const store = this.store;
    if (!store) return;
    try {
      const revision = await store.revision();
      if (revision !== this.tables.revision) {
        const config = this.config;
        const snapshot = await store.snapshot();
        // A reload that landed meanwhile built newer tables from its own read; this one is stale.
        if (config === this.config) {
          this.snapshot = snapshot;
          this.tables = buildIdentityTables(config, snapshot);
        }
      }
      if (this.storeDown) {
        this.storeDown = false;
        this.options.onStoreTrouble?.('recovered');
      }
    } catch (error) {
      // Keep serving from the last tables: a store outage must not lock every caller out.
      if (!this.storeDown) {
        this.storeDown = true;
        this.options.onStoreTrouble?.('unreachable', error);
      }
      throw error;
    }
  }

  /** The caller of a request; throws a 401 GatewayError when it cannot be resolved. */
  authenticate(headers: RequestHeaders): Principal | Promise<Principal> {
    const credential = extractCredential(headers);
    const disabled = this.config.auth.disabled;
    if (credential === undefined) {
      if (disabled) return ANONYMOUS_PRINCIPAL;
      throw new GatewayError('BB_UNAUTHENTICATED', 'No API key was sent. Send it as "Authorization: Bearer <key>".');
    }
    if (this.jwt && looksLikeJwt(credential)) return this.jwt.verify(credential).then((identity) => this.principalForToken(identity));
    const entry = this.tables.keysByHash.get(hashKey(credential));
    if (entry === undefined) {
      if (disabled) return ANONYMOUS_PRINCIPAL;
      throw new GatewayError('BB_INVALID_API_KEY', 'The API key is not valid.');
    }
    if (entry.status !== 'enabled') throw new GatewayError('BB_INVALID_API_KEY', `The API key has been ${entry.status === 'revoked' ? 'revoked' : 'disabled'}.`);
    if (entry.expiresAtMs !== undefined && Date.now() >= entry.expiresAtMs) throw new GatewayError('BB_INVALID_API_KEY', 'The API key has expired.');
    return entry.principal;
  }

  private principalForToken(identity: JwtIdentity): Principal {
    const tables = this.tables;
    const cached = this.tokenPrincipals.get(identity);
    if (cached?.tables === tables) return cached.principal;
    const principal = this.buildTokenPrincipal(identity, tables);
    this.tokenPrincipals.set(identity, { tables, principal });
    return principal;
  }

  private buildTokenPrincipal(identity: JwtIdentity, tables: IdentityTables): Principal {
    if (identity.plan !== undefined && !tables.plans.has(identity.plan)) {
      // Fail closed: an unknown plan would otherwise mean no limits at all.
      throw new GatewayError('BB_INVALID_TOKEN', 'The bearer token names a plan the gateway does not know.');
    }
    const userName = identity.user ?? identity.subject;
    const user = tables.usersByName.get(userName);
    return buildPrincipal(tables, this.config.auth.default_plan, {
      source: 'jwt',
      keyId: `jwt:${identity.subject}`,
      keyName: `jwt:${userName}`,
      displayPrefix: 'jwt',
      user: user ? { id: user.id, name: user.name, plan: user.plan, models: user.models, limits: validLimits(user.limits) } : { name: userName },
      teamName: identity.team ?? (user?.teamId === undefined ? undefined : tables.teamsById.get(user.teamId)?.name),
      plan: identity.plan,
      roles: identity.roles,
    });
  }

  close(): void {
    clearInterval(this.timer);
  }
}
