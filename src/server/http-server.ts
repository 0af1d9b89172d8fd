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
import { matchRoute, type RouteEnv } from './routes.js';
import { writeEventStream } from './sse-writer.js';

const LISTEN_BACKLOG = 4096;

export interface GatewayServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  keepAliveTimeoutMs: number;
}

/**
 * The only code that knows node:http: it turns requests into Exchanges, dispatches them through
 * the routing table, writes Replies (SSE with backpressure), and drains on shutdown.
 */
export class GatewayServer {
  private readonly server: Server;
  private readonly env: RouteEnv;
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  /** Responses under way per socket: a parse error on such a socket cannot be answered in line. */
  private readonly busySockets = new WeakMap<Duplex, number>();

  constructor(
    runtime: Runtime,
    private readonly options: GatewayServerOptions,
  ) {
    this.env = { runtime, draining: false };
    this.server = createServer({ keepAliveTimeout: options.keepAliveTimeoutMs, requestTimeout: 0 }, (request, response) => {
      void this.serve(request, response);
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => this.answerClientError(error, socket));
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

  /** Swaps in a new compiled config; requests already running keep the one they started with. */
  setRuntime(runtime: Runtime): void {
    this.env.runtime = runtime;
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

  /** Stops accepting, lets open requests finish for up to `graceMs`, then closes what is left. */
  async drain(graceMs: number): Promise<void> {
    this.env.draining = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const idle = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([idle, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
  }

  private async serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    this.inFlight += 1;
    const socket = request.socket;
    this.busySockets.set(socket, (this.busySockets.get(socket) ?? 0) + 1);
    const client = new ClientConnection();
    let reply: Reply | undefined;
    response.once('close', () => {
      this.busySockets.set(socket, (this.busySockets.get(socket) ?? 1) - 1);
      const clientClosed = !response.writableFinished;
      if (clientClosed) client.close();
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      // The settle phase; a reply still being computed settles itself when it gets here.
      if (reply) reply.onSettled?.({ status: reply.status, clientClosed });
    });
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const exchange: Exchange = {
      requestId: requestIdFrom(request.headers['x-request-id']),
      method: request.method ?? 'GET',
      path: query === -1 ? url : url.slice(0, query),
      query: query === -1 ? '' : url.slice(query + 1),
      headers: request.headers,
      client,
      startedAt,
      readBody: () => readBodyWithLimit(request, this.options.maxBodyBytes),
    };
    let answer: Reply;
    try {
      answer = await this.dispatch(exchange);
    } catch (error) {
      // Handlers answer their own errors; this is the last net for a bug, and shows no internals.
      answer = handleRouteError(exchange, toGatewayError(error, exchange.requestId));
    }
    if (response.destroyed) {
      answer.onSettled?.({ status: answer.status, clientClosed: true });
      if (answer.stream) await answer.stream[Symbol.asyncIterator]().return?.();
      return;
    }
    reply = answer;
    await this.write(request, response, answer);
  }

  private async dispatch(exchange: Exchange): Promise<Reply> {
    if (this.env.draining && exchange.path !== '/healthz' && exchange.path !== '/readyz') {
      const reply = handleRouteError(exchange, new GatewayError('BB_SHUTTING_DOWN', 'The gateway is shutting down; retry on another instance.', { retryAfterSeconds: 1 }));
      reply.headers.connection = 'close';
      return reply;
    }
    const match = matchRoute(exchange.method, exchange.path);
    if (match.kind === 'not-found') {
      return handleRouteError(exchange, new GatewayError('BB_ROUTE_NOT_FOUND', `No endpoint at ${exchange.method} ${exchange.path}.`));
    }
    if (match.kind === 'method-not-allowed') {
      const error = new GatewayError('BB_METHOD_NOT_ALLOWED', `${exchange.method} is not allowed on ${exchange.path}; use ${match.allow}.`);
      return handleRouteError(exchange, error, match.allow);
    }
    return match.handler(this.env, exchange, match.param);
  }

  private async write(request: IncomingMessage, response: ServerResponse, reply: Reply): Promise<void> {
    // A body we refused to read (too large) would otherwise stall the keep-alive connection.
    if (!request.complete && reply.status >= 400) reply.headers.connection = 'close';
    if (reply.stream) {
      response.writeHead(reply.status, reply.headers);
      try {
        await writeEventStream(response, reply.stream);
      } catch {
        response.destroy();
      }
      return;
    }
    // A known length avoids chunked framing (one write instead of size lines and a terminator).
    const body = reply.body ?? '';
    reply.headers['content-length'] = String(Buffer.byteLength(body));
    response.writeHead(reply.status, reply.headers);
    response.end(body);
  }
}
