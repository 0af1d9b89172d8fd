import type { z } from 'zod';
import { GatewayError } from '../core/errors.js';

/** The first validation problem as a 400 naming the field in OpenAI's `param` notation. */
export function invalidRequest(error: z.ZodError): GatewayError {
  const issue = error.issues[0];
  if (!issue) return new GatewayError('BB_INVALID_REQUEST', 'The request body is invalid.');
  const param = formatParam(issue.path);
  const detail = issue.code === 'invalid_type' && /received undefined$/.test(issue.message) ? 'is required' : describeIssue(issue);
  const message = param ? `Invalid request: '${param}' ${detail}.` : `Invalid request: ${detail}.`;
  return new GatewayError('BB_INVALID_REQUEST', message, param ? { param } : {});
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const text = issue.message.replace(/^Invalid input: /, '');
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function formatParam(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? String(segment) : `.${String(segment)}`;
  }
  return out;
}
