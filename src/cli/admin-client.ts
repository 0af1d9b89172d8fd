import { Agent, request } from 'undici';
import type { AdminContext } from '../admin/context.js';
import type { AdminRoute } from '../admin/route.js';
import type { runAdminAction } from '../admin/router.js';
import type { Identity } from '../auth/identity.js';
import { ConfigError, formatIssue } from '../config/issues.js';
import type { Config } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import { openAIErrorObject } from '../dialects/openai-chat/encode-error.js';
import type { RecordStore } from '../store/index.js';

/** Same as ADMIN_PREFIX in src/admin/router.ts, which this file loads only for --config. */
const ADMIN_PREFIX = '/admin/v1';

export type AdminMethod = AdminRoute['method'];

/** What the admin API answered: the status and the parsed JSON body (undefined for 204). */
export interface AdminResponse {
  status: number;
  body: unknown;
}

/**
 * One way to reach the admin API, so every CLI command works the same against the local store
 * (`--config`) and a running gateway (`--url`). Error answers come back as responses, not throws;
 * a throw means the API could not be reached at all.
 */
export interface AdminClient {
  /** `path` is relative to /admin/v1 and may carry a query string. */
  call(method: AdminMethod, path: string, body?: unknown): Promise<AdminResponse>;
  /** Releases the store, timers and connections; safe to call more than once. */
  close(): Promise<void>;
}

/** A CLI failure whose message is already fit to print as one line. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/**
 * Prints a failed command's error as one line under its label and gives the exit code. Store and
 * driver messages carry no secrets (the store strips passwords from URLs).
 */
export function reportCliFailure(label: string, error: unknown): number {
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  process.stderr.write(`${label}: ${message}\n`);
  return 1;
}

interface LocalSession {
  store: RecordStore;
  identity: Identity;
  ctx: AdminContext;
  run: typeof runAdminAction;
}

/**
 * Runs actions straight on the configured record store as the full-rights `cli` actor: whoever can
 * read the config file and the store already holds every secret, so no admin key is asked for.
 * A running gateway picks the changes up within `store.refresh_ms`.
 */
export function localAdminClient(configPath: string): AdminClient {
  let opening: Promise<LocalSession> | undefined;
  return {
    async call(method, path, body) {
      opening ??= openLocal(configPath);
      const { ctx, run } = await opening;
      const [pathname, search] = splitQuery(path);
      try {
        const result = await run(ctx, method, pathname, body, new URLSearchParams(search));
        return { status: result.status, body: result.status === 204 ? undefined : result.body };
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        return { status: error.status, body: { error: openAIErrorObject(error) } };
      }
    },
    async close() {
      const session = await opening?.catch(() => undefined);
      opening = undefined;
      if (!session) return;
      session.identity.close();
      await session.store.close();
    },
  };
}

async function openLocal(configPath: string): Promise<LocalSession> {
  // Loaded here, not at the top: --url and --help need none of the gateway, and it takes seconds.
  const [{ loadConfigFile }, { openConfiguredStore }, { seedStoreFromConfig }, { Identity }, { AdminContext }, router, { AccessPolicy }] = await Promise.all([
    import('../config/load.js'),
    import('../gateway.js'),
    import('../admin/seed.js'),
    import('../auth/identity.js'),
    import('../admin/context.js'),
    import('../admin/router.js'),
    import('../policies/access/index.js'),
  ]);
  let config: Config;
  try {
    config = await loadConfigFile(configPath);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const first = error.issues[0];
    const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more; run breakerbox validate)` : '';
    throw new CliError(`${configPath}: ${first ? formatIssue(first) : 'invalid config'}${more}`);
  }
  if (config.store.driver === 'sqlite' && config.store.path === ':memory:') {
    throw new CliError(`${configPath}: store.path is ':memory:', so nothing would be kept; use --url <gateway> to manage a running gateway`);
  }
  const store = await openConfiguredStore(config);
  try {
    await seedStoreFromConfig(store, config);
    const identity = await Identity.open(config, store);
    const ctx = new AdminContext({ id: 'cli', role: 'admin' }, store, identity, config, new AccessPolicy(config.access.rules));
    return { store, identity, ctx, run: router.runAdminAction };
  } catch (error) {
    await store.close();
    throw error;
  }
}

function splitQuery(path: string): [string, string] {
  const at = path.indexOf('?');
  return at === -1 ? [path, ''] : [path.slice(0, at), path.slice(at + 1)];
}

/**
 * Talks to a running gateway's /admin/v1 over HTTP. The key goes only into the Authorization
 * header: it is never part of a message, so it cannot leak into a terminal or a CI log.
 */
export function remoteAdminClient(baseUrl: string, adminKey: string): AdminClient {
  let base: URL;
  try {
    base = new URL(baseUrl);
  } catch {
    throw new CliError(`--url must be the gateway's base URL, e.g. http://127.0.0.1:8080`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new CliError(`--url must start with http:// or https://`);
  const root = `${base.origin}${base.pathname.replace(/\/+$/, '')}${ADMIN_PREFIX}`;
  const shown = base.origin; // no path, user info or query in messages
  // Its own pool, closed at the end, so idle keep-alive sockets do not hold the process open.
  const agent = new Agent({ connect: { timeout: 10_000 }, headersTimeout: 30_000, bodyTimeout: 30_000 });
  return {
    async call(method, path, body) {
      let response;
      try {
        response = await request(`${root}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${adminKey}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          dispatcher: agent,
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message || ((error as NodeJS.ErrnoException).code ?? 'unknown error') : String(error);
        throw new CliError(`could not reach the gateway at ${shown} (${reason})`);
      }
      const text = await response.body.text();
      if (text === '') return { status: response.statusCode, body: undefined };
      try {
        return { status: response.statusCode, body: JSON.parse(text) as unknown };
      } catch {
        throw new CliError(`${shown} answered HTTP ${response.statusCode} with something that is not JSON; is --url a Breakerbox gateway?`);
      }
    },
    close() {
      return agent.close();
    },
  };
}
