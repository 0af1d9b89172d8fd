import assert from 'node:assert/strict';
import { APIError } from 'openai';

/** Awaits a request through the `openai` SDK that must fail, and returns its APIError. */
export async function apiError(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof APIError, `expected an APIError, got ${String(error)}`);
    return error;
  }
  return assert.fail('expected the request to fail');
}

/** The gateway's `bb_code` in an error body. */
export function bbCode(error: APIError): unknown {
  return (error.error as { bb_code?: unknown } | undefined)?.bb_code;
}
