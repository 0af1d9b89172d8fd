import { ADMIN_PREFIX, handleAdmin } from '../admin/index.js';
import { anthropicMessagesDialect } from '../dialects/anthropic-messages/index.js';
import { openAIChatDialect } from '../dialects/openai-chat/index.js';
import { handleChat } from '../pipeline/chat.js';
import { handleCountTokens } from '../pipeline/count-tokens.js';
import { handleEmbeddings } from '../pipeline/embeddings.js';
import type { Exchange, Reply } from '../pipeline/exchange.js';
import { handleHealthz, handleReadyz } from '../pipeline/health.js';
import { handleGetModel, handleListModels } from '../pipeline/models.js';
import type { Runtime } from '../pipeline/runtime.js';
import { handleMetrics, isMetricsPath } from '../telemetry/metrics-endpoint.js';

/** What a route handler gets besides the exchange. */
export interface RouteEnv {
  runtime: Runtime;
  draining: boolean;
}

type RouteHandler = (env: RouteEnv, exchange: Exchange, param: string) => Promise<Reply> | Reply;

interface RouteTable {
  exact: Map<string, Map<string, RouteHandler>>;
  /** Routes ending in a path parameter, e.g. `/v1/models/{id}`: prefix -> methods. */
  prefixed: Array<{ prefix: string; methods: Map<string, RouteHandler> }>;
}

function buildRoutes(): RouteTable {
  const exact = new Map<string, Map<string, RouteHandler>>([
    ['/v1/chat/completions', new Map([['POST', (env, exchange) => handleChat(env.runtime, openAIChatDialect, exchange)]])],
    ['/v1/messages', new Map([['POST', (env, exchange) => handleChat(env.runtime, anthropicMessagesDialect, exchange)]])],
    ['/v1/messages/count_tokens', new Map([['POST', (env, exchange) => handleCountTokens(env.runtime, exchange)]])],
    ['/v1/embeddings', new Map([['POST', (env, exchange) => handleEmbeddings(env.runtime, exchange)]])],
    ['/v1/models', new Map([['GET', (env, exchange) => handleListModels(env.runtime, exchange)]])],
    ['/healthz', new Map([['GET', (_env, exchange) => handleHealthz(exchange)]])],
    ['/readyz', new Map([['GET', (env, exchange) => handleReadyz(env.runtime, env.draining, exchange)]])],
  ]);
  const prefixed = [
    { prefix: '/v1/models/', methods: new Map<string, RouteHandler>([['GET', (env, exchange, id) => handleGetModel(env.runtime, exchange, id)]]) },
  ];
  return { exact, prefixed };
}

const ROUTES = buildRoutes();
/** The admin API has its own table (src/admin/router.ts), with methods and path parameters. */
const ADMIN_HANDLER: RouteHandler = (env, exchange) => handleAdmin(env.runtime, exchange);
/** Prometheus metrics, at the path the running config names (`metrics.path`). */
const METRICS_METHODS = new Map<string, RouteHandler>([['GET', (env, exchange) => handleMetrics(env.runtime, exchange)]]);

export type RouteMatch =
  | { kind: 'found'; handler: RouteHandler; param: string }
  | { kind: 'method-not-allowed'; allow: string }
  | { kind: 'not-found' };

/** Finds the handler for a method and path (HEAD is served as GET without a body by node:http). */
export function matchRoute(method: string, path: string, env?: RouteEnv): RouteMatch {
  if (path.startsWith(ADMIN_PREFIX) && (path.length === ADMIN_PREFIX.length || path[ADMIN_PREFIX.length] === '/')) {
    return { kind: 'found', handler: ADMIN_HANDLER, param: '' };
  }
  let methods = env !== undefined && isMetricsPath(env.runtime, path) ? METRICS_METHODS : ROUTES.exact.get(path);
  let param = '';
  if (!methods) {
    for (const route of ROUTES.prefixed) {
      if (path.startsWith(route.prefix) && path.length > route.prefix.length) {
        methods = route.methods;
        param = decodePathParam(path.slice(route.prefix.length));
        break;
      }
    }
  }
  if (!methods) return { kind: 'not-found' };
  const handler = methods.get(method === 'HEAD' ? 'GET' : method);
  if (!handler) return { kind: 'method-not-allowed', allow: [...methods.keys()].join(', ') };
  return { kind: 'found', handler, param };
}

/** A malformed escape (`%E0%A4%A`) stays as sent, so it names nothing (a 404) instead of throwing (a 500). */
function decodePathParam(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
