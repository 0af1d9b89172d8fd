import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { GatewayError, toGatewayError } from '../core/errors.js';
import { encodeOpenAIError } from '../dialects/openai-chat/index.js';
import type { Exchange, Reply } from '../pipeline/exchange.js';
import { handleRouteError } from '../pipeline/models.js';
import type { Runtime } from '../pipeline/runtime.js';
import { readBodyWithLimit } from './body.js';
import { ClientConnection } from './client-connection.js';
import { requestIdFrom } from './request-id.js';
import { isMetricsPath } from '../telemetry/metrics-endpoint.js';
import { matchRoute, type RouteEnv } from './routes.js';
import { RuntimeSlot } from './runtime-slot.js';
import { writeEventStream } from './sse-writer.js';

const LISTEN_BACKLOG = 4096;
/** The end of the shutdown grace kept for terminal events (at most a quarter of the grace). */
const TERMINAL_WINDOW_MS = 1000;
/** After the grace, how long requests may take to notice their closed connections before runtimes close anyway. */
const STRAGGLER_MS = 2000;

/** Settings a config reload may change without a restart. */
export interface ReloadableServerOptions {
  maxBodyBytes: number;
  keepAliveTimeoutMs: number;
  /** Load shedding: requests beyond this many in flight get 503 BB_GATEWAY_BUSY; 0 turns it off. */
  maxInFlight: number;
}

export interface GatewayServerOptions extends ReloadableServerOptions {
  host: string;
  port: number;
}

/**
 * The only code that knows node:http: it turns requests into Exchanges, dispatches them through
 * the routing table, writes Replies (SSE with backpressure), and drains on shutdown.
 */
export class GatewayServer {
  private readonly server: Server;
  /** The runtime new requests start on. */
  private slot: RuntimeSlot;
  /** Retired runtimes whose requests have not all finished. */
  private readonly retired = new Set<RuntimeSlot>();
  private draining = false;
  private inFlight = 0;
  /** `maxInFlight`, with 0 (off) as Infinity, so shedding costs one compare. */
  private shedAbove = Number.POSITIVE_INFINITY;
  private maxBodyBytes: number;
  private idleWaiters: Array<() => void> = [];
  /** Requests not finished yet, so a shutdown can interrupt them with a terminal error. */
  private readonly clients = new Set<ClientConnection>();
  /** Responses under way per socket: a parse error on such a socket cannot be answered in line. */
  private readonly busySockets = new WeakMap<Duplex, number>();

  constructor(
    runtime: Runtime,
    private readonly options: GatewayServerOptions,
  ) {
    this.slot = new RuntimeSlot({ runtime, draining: false });
    this.maxBodyBytes = options.maxBodyBytes;
    this.server = createServer({ keepAliveTimeout: options.keepAliveTimeoutMs, requestTimeout: 0 }, (request, response) => {
      void this.serve(request, response);
    });
    this.configure(options);
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => this.answerClientError(error, socket));
  }

  /** Requests being handled now (the in-flight gauge reads it at each scrape). */
  get requestsInFlight(): number {
    return this.inFlight;
  }

  /** Applies reloadable settings; requests already running keep the body limit they started with. */
  configure(options: ReloadableServerOptions): void {
    this.maxBodyBytes = options.maxBodyBytes;
    this.server.keepAliveTimeout = options.keepAliveTimeoutMs;
    this.shedAbove = options.maxInFlight === 0 ? Number.POSITIVE_INFINITY : options.maxInFlight;
  }

  /**
   * Bytes node:http could not parse (headers over the limit, broken framing) never reach serve():
   * answer them in the OpenAI error shape instead of node's bare status line, and never echo them.
   */
  private answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    // Not a parse error (a reset, a header timeout), or a response is already on this socket.
    if (!error.code?.startsWith('HPE_') || !socket.writable || (this.busySockets.get(socket) ?? 0) > 0) {
      socket.destroy();
      return;
    }
    const gatewayError =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? new GatewayError('BB_HEADERS_TOO_LARGE', 'The request headers are larger than the server accepts.')
        : new GatewayError('BB_INVALID_REQUEST', 'The request is not valid HTTP.');
    const encoded = encodeOpenAIError(gatewayError, requestIdFrom(undefined));
    const headers = { ...encoded.headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(encoded.body)), connection: 'close' };
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    // end(), not destroy(): the client gets to read the answer before the connection closes.
    socket.end(`HTTP/1.1 ${encoded.status} ${STATUS_CODES[encoded.status] ?? ''}\r\n${head}\r\n${encoded.body}`);
  }

  /**
   * Swaps in a new compiled config; requests already running keep the one they started with. The
   * promise settles when the previous runtime is closed (after its last request finished).
   */
  setRuntime(runtime: Runtime): Promise<void> {
    const previous = this.slot;
    this.slot = new RuntimeSlot({ runtime, draining: this.draining });
    return this.retire(previous);
  }

  private retire(slot: RuntimeSlot): Promise<void> {
    this.retired.add(slot);
    const closed = slot.retire();
    void closed.then(
      () => this.retired.delete(slot),
      () => this.retired.delete(slot),
    );
    return closed;
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      // Node's default accept backlog (511) drops connection bursts; the kernel caps this at somaxconn.
      this.server.listen({ port: this.options.port, host: this.options.host, backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /**
   * Stops accepting and lets open requests finish for up to `graceMs`. Shortly before the end,
   * requests still running are interrupted with BB_SHUTTING_DOWN, so a stream ends with a terminal
   * error event in its client's dialect rather than a cut connection; at `graceMs` what is left is
   * closed. Then every runtime is closed. Settle runs for every request (on its response's close).
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    this.slot.env.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const terminalWindowMs = Math.min(TERMINAL_WINDOW_MS, Math.floor(graceMs / 4));
    if (!(await this.idleWithin(graceMs - terminalWindowMs))) {
      const reason = new GatewayError('BB_SHUTTING_DOWN', 'The gateway is shutting down and ended this request; retry on another instance.', { retryAfterSeconds: 1 });
      for (const client of this.clients) client.interrupt(reason);
      await this.idleWithin(terminalWindowMs);
    }
    this.server.closeAllConnections();
    await closed;
    await this.idleWithin(STRAGGLER_MS);
    await this.closeRuntimes();
  }

  /** Closes the current and every retired runtime, waiting briefly for requests that still hold one. */
  private async closeRuntimes(): Promise<void> {
    const closing = [this.retire(this.slot), ...[...this.retired].map((slot) => slot.retire())];
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, STRAGGLER_MS)));
    await Promise.race([Promise.allSettled(closing), late]);
    clearTimeout(timer);
    for (const slot of this.retired) slot.forceClose();
    await Promise.allSettled(closing);
  }

  /** Resolves true once no request is in flight, or false after `ms`. */
  private async idleWithin(ms: number): Promise<boolean> {
    if (this.inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const result = await Promise.race([idle, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, ms))))]);
    clearTimeout(timer);
    return result;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    this.inFlight += 1;
    // The runtime is fixed for the whole request; it counts as running until both the handler
    // (stream included) is done and the response has closed.
    const slot = this.slot;
    slot.enter();
    let holds = 2;
    const leave = () => {
      holds -= 1;
      if (holds === 0) slot.leave();
    };
    const socket = request.socket;
    this.busySockets.set(socket, (this.busySockets.get(socket) ?? 0) + 1);
    const client = new ClientConnection();
    this.clients.add(client);
    // What the close needs of the reply, not the reply: its headers are garbage once written.
    let settle: Reply['onSettled'];
    let settleStatus = 0;
    // 'close' fires once; `on` spares the once-wrapper an open stream would hold.
    response.on('close', () => {
      this.busySockets.set(socket, (this.busySockets.get(socket) ?? 1) - 1);
      const clientClosed = !response.writableFinished;
      if (clientClosed) client.close();
      this.clients.delete(client);
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      // The settle phase; a reply still being computed settles itself when it gets here.
      settle?.({ status: settleStatus, clientClosed });
      leave();
    });
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const maxBodyBytes = this.maxBodyBytes;
    const exchange: Exchange = {
      requestId: requestIdFrom(request.headers['x-request-id']),
      method: request.method ?? 'GET',
      path: query === -1 ? url : url.slice(0, query),
      query: query === -1 ? '' : url.slice(query + 1),
      headers: request.headers,
      client,
      startedAt,
      readBody: () => readBodyWithLimit(request, maxBodyBytes),
    };
    // The write is returned, not awaited, and a stream reports its end by callback: an open stream
    // then holds no suspended frame of serve() and no promise chain.
    let writing: Promise<void> | undefined;
    let streaming = false;
    try {
      let answer: Reply;
      try {
        answer = await this.dispatch(slot.env, exchange);
      } catch (error) {
        // Handlers answer their own errors; this is the last net for a bug, and shows no internals.
        answer = handleRouteError(exchange, toGatewayError(error, exchange.requestId));
      }
      if (response.destroyed) {
        answer.onSettled?.({ status: answer.status, clientClosed: true });
        if (answer.stream) await answer.stream[Symbol.asyncIterator]().return?.();
        return;
      }
      settle = answer.onSettled;
      settleStatus = answer.status;
      // A body we refused to read (too large) would otherwise stall the keep-alive connection.
      if (!request.complete && answer.status >= 400) answer.headers.connection = 'close';
      if (answer.stream) {
        response.writeHead(answer.status, answer.headers);
        streaming = true;
        // Destroys the response itself when the stream fails; calls `leave` once, at the end.
        writeEventStream(response, answer.stream, leave);
        return;
      }
      writing = this.writeBody(response, answer);
    } finally {
      if (writing === undefined && !streaming) leave();
    }
    return writing.finally(leave);
  }

  private async dispatch(env: RouteEnv, exchange: Exchange): Promise<Reply> {
    // Load shedding first and by one compare: the point is to stay cheap when overloaded.
    if ((this.inFlight > this.shedAbove || env.draining) && !isProbe(exchange.path) && !isMetricsPath(env.runtime, exchange.path)) {
      const reply = env.draining
        ? handleRouteError(exchange, new GatewayError('BB_SHUTTING_DOWN', 'The gateway is shutting down; retry on another instance.', { retryAfterSeconds: 1 }))
        : handleRouteError(exchange, new GatewayError('BB_GATEWAY_BUSY', 'The gateway is at its limit of requests in flight; retry shortly.', { retryAfterSeconds: 1 }));
      if (env.draining) reply.headers.connection = 'close';
      return reply;
    }
    const match = matchRoute(exchange.method, exchange.path, env);
    if (match.kind === 'not-found') {
      return handleRouteError(exchange, new GatewayError('BB_ROUTE_NOT_FOUND', `No endpoint at ${exchange.method} ${exchange.path}.`));
    }
    if (match.kind === 'method-not-allowed') {
      const error = new GatewayError('BB_METHOD_NOT_ALLOWED', `${exchange.method} is not allowed on ${exchange.path}; use ${match.allow}.`);
      return handleRouteError(exchange, error, match.allow);
    }
    return match.handler(env, exchange, match.param);
  }

  /** A whole (non-streaming) reply: headers, the settle the ledger may ask to wait for, then the body. */
  private async writeBody(response: ServerResponse, reply: Reply): Promise<void> {
    // A known length avoids chunked framing (one write instead of size lines and a terminator).
    const body = reply.body ?? '';
    reply.headers['content-length'] = String(Buffer.byteLength(body));
    response.writeHead(reply.status, reply.headers);
    // Settle before the last byte: an answer the client received is always recorded (the settle
    // from the response's close is then a no-op). The ledger's group commit may ask to wait.
    const durable = reply.onSettled?.({ status: reply.status, clientClosed: false, alone: this.inFlight === 1 });
    if (durable) await durable;
    response.end(body);
  }
}

/** Health probes are never shed or refused: they report on the instance, overloaded or draining. */
function isProbe(path: string): boolean {
  return path === '/healthz' || path === '/readyz';
}
