import { pino, type Logger, type LevelWithSilent } from 'pino';
import { requestSettledChannel, type RequestRecord } from '../core/request-record.js';

export type { Logger } from 'pino';

/** Buffered log bytes before a write: one write per line cost more than the rest of a request. */
const LOG_BUFFER_BYTES = 8 * 1024;
/** The most a log line waits in the buffer when traffic is low. */
const LOG_FLUSH_MS = 500;

/** Structured JSON logs on stdout. Nothing that could hold a secret is ever passed in. */
export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  const options = { level, base: { service: 'breakerbox' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (destination) return pino(options, destination);
  const stdout = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES });
  const timer = setInterval(() => stdout.flush(), LOG_FLUSH_MS);
  timer.unref();
  process.once('exit', () => stdout.flushSync());
  return pino(options, stdout);
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
