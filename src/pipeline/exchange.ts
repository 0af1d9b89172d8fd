import type { IncomingHttpHeaders } from 'node:http';
import type { ClientLink } from '../core/client-link.js';

/**
 * One client request as the pipeline sees it. The server builds it; the pipeline never touches
 * node:http. `readBody` enforces the body size limit while reading.
 */
export interface Exchange {
  requestId: string;
  method: string;
  path: string;
  /** The query string without `?` ('' when none). */
  query: string;
  headers: IncomingHttpHeaders;
  /** Closes when the client disconnects before the reply is complete. */
  client: ClientLink;
  /** performance.now() when the request arrived. */
  startedAt: number;
  readBody(): Promise<Buffer>;
}

export interface SettleInfo {
  /** Status actually sent (a stream that failed mid-way still sent 200). */
  status: number;
  /** The client went away before the reply was complete. */
  clientClosed: boolean;
  /**
   * No other request is in flight on this server: no other record can share this one's durable
   * write, so it is written at once rather than at the end of the event-loop turn.
   */
  alone?: boolean;
}

/** What the server writes back: a whole body, or SSE chunks written with backpressure. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: string;
  stream?: AsyncIterable<string>;
  /**
   * The settle phase hangs here: called just before the last byte is written (so what a client
   * received is always recorded), or when the client has gone. May be called more than once;
   * implementations act on the first call only. A promise means: write the last byte once it
   * resolves (the record is durable then).
   */
  onSettled?: (info: SettleInfo) => void | Promise<void>;
}

export type Handler = (exchange: Exchange) => Promise<Reply>;
