import { resolveActor } from '../admin/actor.js';
import { GatewayError, toGatewayError } from '../core/errors.js';
import type { Exchange, Reply } from '../pipeline/exchange.js';
import { handleRouteError } from '../pipeline/models.js';
import type { Runtime } from '../pipeline/runtime.js';

/** True when `path` is the configured metrics endpoint (the server exempts it from load shedding). */
export function isMetricsPath(runtime: Runtime, path: string): boolean {
  const settings = runtime.config.metrics;
  return settings.enabled && path === settings.path;
}

/**
 * `GET <metrics.path>`: the Prometheus text format. A scrape publishes no request record (like the
 * health probes), so scraping does not move the request counters; a refused scrape does.
 */
export async function handleMetrics(runtime: Runtime, exchange: Exchange): Promise<Reply> {
  const source = runtime.metrics;
  if (source === undefined || !runtime.config.metrics.enabled) {
    return handleRouteError(exchange, new GatewayError('BB_ROUTE_NOT_FOUND', `No endpoint at ${exchange.method} ${exchange.path}.`));
  }
  if (runtime.config.metrics.auth === 'admin') {
    try {
      const actor = await resolveActor(runtime.config, runtime.identity, exchange.headers);
      // Metrics cover every team: only the admin key, an admin, or a viewer without a team may read them.
      if (actor.role !== 'admin' && !(actor.role === 'viewer' && actor.teamId === undefined)) {
        throw new GatewayError('BB_ADMIN_FORBIDDEN', 'Metrics cover every team; this credential may not read them.');
      }
    } catch (error) {
      return handleRouteError(exchange, toGatewayError(error, exchange.requestId));
    }
  }
  const body = await source.render();
  return { status: 200, headers: { 'content-type': source.contentType, 'cache-control': 'no-store', 'x-request-id': exchange.requestId }, body };
}
