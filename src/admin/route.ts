import type { z } from 'zod';
import type { AdminContext } from './context.js';

/** What an admin handler returns; the router serialises it. */
export interface AdminResult {
  status: number;
  body: unknown;
}

/**
 * One admin endpoint. The same table drives dispatch and the OpenAPI document, so the document
 * cannot drift from what is served.
 */
export interface AdminRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under /admin/v1 with `{name}` parameters, e.g. `/teams/{id}`. */
  path: string;
  summary: string;
  tag: string;
  /** Validates the JSON body; routes without one take no body. */
  body?: z.ZodType;
  /** Schema of a success response, for the OpenAPI document. */
  response?: z.ZodType;
  /** Status of a success response. */
  status: number;
  handler(ctx: AdminContext, params: Record<string, string>, body: unknown, query: URLSearchParams): Promise<AdminResult>;
}

export function ok(body: unknown, status = 200): AdminResult {
  return { status, body };
}

/** Timestamps and lists as the admin API shows them. */
export function nullable<T>(value: T | undefined): T | null {
  return value === undefined ? null : value;
}
