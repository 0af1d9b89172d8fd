import { ConfigError } from '../config/issues.js';
import { parseConfigText, readConfigText } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { startGateway } from '../gateway.js';
import { applyHeapGrowth } from './heap-growth.js';
import { ConfigReloader } from './reload.js';
import { reportConfigError } from './validate.js';

export interface StartOverrides {
  host: string | undefined;
  port: string | undefined;
}

/**
 * Loads the config and serves it: SIGHUP (and, with `server.watch_config`, a change of the file)
 * reloads it; SIGINT or SIGTERM drain and exit 0.
 */
export async function runStart(path: string, overrides: StartOverrides): Promise<number> {
  const port = overrides.port === undefined ? undefined : Number(overrides.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
    process.stderr.write(`breakerbox start: --port must be a number from 0 to 65535\n`);
    return 1;
  }
  // Applied to every loaded config, reloads included, so they never read as a changed address.
  const adjust = (config: Config) => {
    if (overrides.host !== undefined) config.server.host = overrides.host;
    if (port !== undefined) config.server.port = port;
  };
  let text: string;
  let config: Config;
  try {
    text = await readConfigText(path);
    config = parseConfigText(text, path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(path, error);
    return 1;
  }
  adjust(config);
  // A serving process: bound the heap's growth past its live data (see heap-growth.ts).
  applyHeapGrowth();
  const gateway = await startGateway(config);
  const runtime = gateway.runtime;
  gateway.logger.info(
    { address: gateway.url, providers: [...runtime.providers.keys()], models: runtime.modelNames },
    `breakerbox listening on ${gateway.url}`,
  );
  const reloader = new ConfigReloader(path, gateway, adjust, text);
  let stopping = false;
  const reload = () => {
    if (stopping) gateway.logger.warn('SIGHUP ignored: shutting down');
    else void reloader.request('SIGHUP');
  };
  process.on('SIGHUP', reload);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      stopping = true;
      gateway.logger.info({ signal, grace_ms: gateway.config.server.shutdown_grace_ms }, 'draining');
      // A second SIGINT or SIGTERM falls to the default handler and ends the process at once.
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      reloader.stop();
      void gateway.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.off('SIGHUP', reload);
  gateway.logger.info('stopped');
  return 0;
}
