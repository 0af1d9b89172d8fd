import { pino, type Logger, type LevelWithSilent } from 'pino';
import { requestSettledChannel, type RequestRecord } from '../core/request-record.js';

export type { Logger } from 'pino';

/** Structured JSON logs on stdout. Nothing that could hold a secret is ever passed in. */
export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  return pino({ level, base: { service: 'breakerbox' }, timestamp: pino.stdTimeFunctions.isoTime }, destination ?? pino.destination({ sync: false }));
}

/**
 * One line per settled request. Fields are picked one by one from the record (no headers, no
 * bodies, the key's name but never the key), so a new record field cannot leak by accident.
 */
export function logRequests(logger: Logger): () => void {
  const onSettled = (message: unknown) => {
    const record = message as RequestRecord;
    const line = {
      request_id: record.requestId,
      method: record.method,
      path: record.path,
      status: record.status,
      error_code: record.errorCode,
      key: record.keyName,
      model: record.requestedModel,
      provider: record.provider,
      served_model: record.servedModel,
      stream: record.stream || undefined,
      attempts: record.attempts.length || undefined,
      input_tokens: record.usage?.inputTokens,
      output_tokens: record.usage?.outputTokens,
      total_ms: round(record.totalMs),
      ttft_ms: round(record.ttftMs),
      upstream_ms: round(record.upstreamMs),
      overhead_ms: round(record.gatewayOverheadMs),
    };
    if (record.status >= 500) logger.error(line, 'request');
    else logger.info(line, 'request');
  };
  requestSettledChannel.subscribe(onSettled);
  return () => requestSettledChannel.unsubscribe(onSettled);
}

function round(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 1000) / 1000;
}
