/**
 * The HTTP plumbing every fake upstream shares: a node:http server on 127.0.0.1 (a free port) whose
 * handler failures answer 500 (or destroy a response already under way), cancellable sleeps, body
 * reading and JSON parsing, JSON answers, and the write helpers of streamed answers. The wire
 * format (routes, headers, bodies, SSE or event-stream framing) stays in each fake.
 */
import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeServerOptions {
  /** Options of node:http's createServer (keepAliveTimeout, noDelay, ...). */
  server?: ServerOptions;
  /**
   * Whether close() resolves the sleeps still pending (true) or only clears their timers, leaving
   * them pending forever (false). Default true.
   */
  wakeSleepersOnClose?: boolean;
}

export interface FakeServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  origin: string;
  port: number;
  /** Waits `ms`; close() cancels the timer (see FakeServerOptions.wakeSleepersOnClose). */
  sleep(ms: number): Promise<void>;
  /** Cancels pending sleeps, ends every open connection, then stops listening. */
  close(): Promise<void>;
}

export type FakeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Starts listening on a free loopback port; `handler` serves every request. */
export async function startFakeServer(handler: FakeHandler, options: FakeServerOptions = {}): Promise<FakeServer> {
  const wake = options.wakeSleepersOnClose ?? true;
  const sleepers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const sleeper = {
        resolve,
        timer: setTimeout(() => {
          sleepers.delete(sleeper);
          resolve();
        }, ms),
      };
      sleepers.add(sleeper);
    });

  const server = createServer(options.server ?? {}, (req, res) => {
    void handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    sleep,
    async close() {
      for (const sleeper of sleepers) {
        clearTimeout(sleeper.timer);
        if (wake) sleeper.resolve();
      }
      sleepers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The whole request body as UTF-8 text. */
export function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.once('end', () => resolve(text));
    req.once('error', reject);
  });
}

/** The parsed JSON of a body; undefined when it is empty or not JSON. */
export function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface SendJsonOptions {
  /** Default `application/json`. */
  contentType?: string;
  /** Headers written after content-type and content-length. */
  trailingHeaders?: Record<string, string>;
}

/**
 * Answers with a JSON body (a string is sent as is) and headers in the order: `headers`,
 * content-type, content-length, `trailingHeaders`.
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, options: SendJsonOptions = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': options.contentType ?? 'application/json',
    'content-length': Buffer.byteLength(text),
    ...options.trailingHeaders,
  });
  res.end(text);
}

/** Resolves on the response's next 'drain', or when it closes. */
export function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** Writes and waits until the chunk has been handed to the socket (or the response closed); returns write()'s verdict. */
export function writeFlushed(res: ServerResponse, chunk: string | Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    let ok = true;
    const done = () => {
      res.off('close', done);
      resolve(ok);
    };
    res.once('close', done);
    ok = res.write(chunk, done);
  });
}
