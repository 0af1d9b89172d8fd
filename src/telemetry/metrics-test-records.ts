import type { RequestRecord } from '../core/request-record.js';
import type { ObservedAttempt, ObservedRecord } from './metrics-record-fields.js';

/** A settled chat record with every field set to a plain success; tests override what they need. */
export function syntheticRecord(overrides: Partial<Omit<ObservedRecord, 'attempts'>> & { attempts?: ObservedAttempt[] } = {}): RequestRecord {
  const record = {
    requestId: 'req-1',
    startedAt: 1_700_000_000_000,
    method: 'POST',
    path: '/v1/chat/completions',
    endpoint: 'chat',
    dialect: 'openai-chat',
    status: 200,
    errorCode: undefined,
    keyName: 'test',
    principal: undefined,
    customer: undefined,
    conversationId: undefined,
    templateId: undefined,
    templateVersion: undefined,
    tags: [],
    metadata: undefined,
    limitActions: [],
    guards: [],
    access: { decision: 'allow' },
    requestedModel: 'demo',
    provider: 'mock',
    servedModel: 'mock-1',
    stream: false,
    usage: { inputTokens: 40, outputTokens: 12 },
    costUsd: 0.001,
    usageIncomplete: false,
    attempts: [{ target: 'mock/mock-1', provider: 'mock', model: 'mock-1', outcome: 'ok', durationMs: 80 }],
    routing: { group: 'demo', strategy: 'priority', candidates: ['mock/mock-1'] },
    totalMs: 100,
    ttftMs: undefined,
    upstreamMs: 80,
    gatewayOverheadMs: 0.4,
    ...overrides,
  } as ObservedRecord;
  return record;
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
