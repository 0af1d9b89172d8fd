import type { Exchange, Reply } from './exchange.js';
import type { Runtime } from './runtime.js';

/** `GET /healthz`: the process is alive and its event loop answers. No auth, no I/O. */
export function handleHealthz(exchange: Exchange): Reply {
  return { status: 200, headers: { 'content-type': 'application/json', 'x-request-id': exchange.requestId }, body: '{"status":"ok"}' };
}

/**
 * `GET /readyz`: config loaded and every store reachable. Today all state is in process, so ready
 * means a runtime is loaded and the gateway is not draining; stores add their checks here. The
 * circuit breaker of every target that has seen traffic is listed under `targets`.
 */
export function handleReadyz(runtime: Runtime | undefined, draining: boolean, exchange: Exchange): Reply {
  const ready = runtime !== undefined && !draining;
  const body = {
    status: ready ? 'ready' : 'not_ready',
    checks: {
      config: runtime ? 'ok' : 'missing',
      draining,
      providers: runtime ? runtime.providers.size : 0,
      models: runtime ? runtime.modelNames.length : 0,
    },
    // Upstream trouble does not make this instance unready (another would fare no better); it is shown.
    targets: runtime ? runtime.router.board.report() : [],
  };
  return { status: ready ? 200 : 503, headers: { 'content-type': 'application/json', 'x-request-id': exchange.requestId }, body: JSON.stringify(body) };
}
