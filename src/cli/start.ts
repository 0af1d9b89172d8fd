import { ConfigError } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import { startGateway } from '../gateway.js';
import { reportConfigError } from './validate.js';

export interface StartOverrides {
  host: string | undefined;
  port: string | undefined;
}

/** Loads the config, serves it, and drains cleanly on SIGINT or SIGTERM. */
export async function runStart(path: string, overrides: StartOverrides): Promise<number> {
  let config;
  try {
    config = await loadConfigFile(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(path, error);
    return 1;
  }
  if (overrides.host !== undefined) config.server.host = overrides.host;
  if (overrides.port !== undefined) {
    const port = Number(overrides.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      process.stderr.write(`breakerbox start: --port must be a number from 0 to 65535\n`);
      return 1;
    }
    config.server.port = port;
  }
  const gateway = await startGateway(config);
  const runtime = gateway.runtime;
  gateway.logger.info(
    { address: gateway.url, providers: [...runtime.providers.keys()], models: runtime.modelNames },
    `breakerbox listening on ${gateway.url}`,
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      gateway.logger.info({ signal }, 'draining');
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void gateway.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}
