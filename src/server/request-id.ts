import { randomUUID } from 'node:crypto';

const WELL_FORMED = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a client's well-formed `x-request-id` (so traces join up); otherwise makes a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && WELL_FORMED.test(header) ? header : newRequestId();
}

/**
 * A UUID version 7 (RFC 9562): the Unix time in milliseconds in the first 48 bits, then 74 random
 * bits. The ledger's unique index on request ids then grows at its end instead of at random
 * places: with random (version 4) ids each insert lands on a different page of a large index,
 * which made the ledger's SQLite insert about 60% dearer per row at 150,000 rows, and growing.
 * The random bits are a version 4 UUID's: its version digit becomes 7, and its variant bits are
 * already the ones version 7 needs.
 */
export function newRequestId(nowMs: number = Date.now()): string {
  const ms = Math.trunc(nowMs);
  if (ms !== prefixMs) {
    const time = ms.toString(16).padStart(12, '0');
    prefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    prefixMs = ms;
  }
  return prefix + randomUUID().slice(15); // xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx
}

/** The time part of the last id: requests in the same millisecond share it. */
let prefixMs = -1;
let prefix = '';
