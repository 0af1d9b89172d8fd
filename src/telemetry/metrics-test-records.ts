import type { RequestRecord } from '../core/request-record.js';
import { sampleRequestRecord } from '../core/request-record-sample.js';
import type { ObservedAttempt, ObservedRecord } from './metrics-record-fields.js';

/** A settled chat record with every field set to a plain success; tests override what they need. */
export function syntheticRecord(overrides: Partial<Omit<ObservedRecord, 'attempts'>> & { attempts?: ObservedAttempt[] } = {}): RequestRecord {
  return sampleRequestRecord(overrides);
}

/** The value of one sample line in Prometheus text (`name{a="b",...} value`), or undefined. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const braces = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const found: Record<string, string> = {};
    if (braces === name.length) {
      for (const match of line.slice(braces + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[match[1] as string] = match[2] as string;
    }
    if (Object.entries(labels).every(([key, value]) => found[key] === value) && Object.keys(found).length === Object.keys(labels).length) {
      return Number(line.slice((braces === name.length ? close : name.length) + 1).trim());
    }
  }
  return undefined;
}
