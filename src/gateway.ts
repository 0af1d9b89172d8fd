import type { Config } from './config/schema.js';
import { createRuntime, type Runtime } from './pipeline/runtime.js';
import { GatewayServer } from './server/http-server.js';
import { createLogging, logRequests, type Logger } from './telemetry/logger.js';

export interface RunningGateway {
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  host: string;
  port: number;
  runtime: Runtime;
  logger: Logger;
  /** Drains open requests (up to the configured grace), then releases everything. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Log destination; stdout when omitted. */
  logDestination?: NodeJS.WritableStream;
}

/** Builds the runtime from a validated config and serves it. The CLI and the tests both start here. */
export async function startGateway(config: Config, options: StartOptions = {}): Promise<RunningGateway> {
  const logging = createLogging(config.logging.level, options.logDestination);
  const logger = logging.logger;
  const runtime = createRuntime(config);
  const stopLogging = config.logging.requests ? logRequests(logging) : () => undefined;
  const server = new GatewayServer(runtime, {
    host: config.server.host,
    port: config.server.port,
    maxBodyBytes: config.server.max_body_bytes,
    keepAliveTimeoutMs: config.server.keep_alive_timeout_ms,
  });
  let address;
  try {
    address = await server.listen();
  } catch (error) {
    stopLogging();
    await runtime.close();
    throw error;
  }
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    host: address.address,
    port: address.port,
    runtime,
    logger,
    close() {
      closing ??= (async () => {
        await server.drain(config.server.shutdown_grace_ms);
        stopLogging();
        await runtime.close();
        logging.flush();
      })();
      return closing;
    },
  };
}
