import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { RequestRecord } from '../../src/core/request-record.js';

/** Collects every settled request record until `stop()`. */
export function recordRequests(): { records: RequestRecord[]; stop(): void } {
  const records: RequestRecord[] = [];
  const onRecord = (message: unknown) => records.push(message as RequestRecord);
  subscribe('breakerbox:request:settled', onRecord);
  return { records, stop: () => unsubscribe('breakerbox:request:settled', onRecord) };
}
