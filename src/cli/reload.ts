import { ConfigError } from '../config/issues.js';
import { parseConfigText, readConfigText } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { watchConfigFile } from '../config/watch.js';
import type { RunningGateway } from '../gateway.js';
import { describeConfigError } from './validate.js';

export type ReloadTrigger = 'SIGHUP' | 'file change';

/**
 * Reloads the running gateway from its config file, on SIGHUP and (with `server.watch_config`) when
 * the file changes. A config that does not validate is logged with every error, in the wording of
 * `breakerbox validate`, and the gateway keeps serving the one it has. Reloads run one at a time.
 */
export class ConfigReloader {
  private queue: Promise<void> = Promise.resolve();
  private stopWatching: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly path: string,
    private readonly gateway: RunningGateway,
    /** Applies command-line overrides (--host, --port) to each loaded config. */
    private readonly adjust: (config: Config) => void,
    /** The text the gateway started from: a file event with the same content is not a change. */
    private lastText: string | undefined,
  ) {
    this.syncWatch();
  }

  request(trigger: ReloadTrigger): Promise<void> {
    this.queue = this.queue.then(() => this.reload(trigger)).catch((error: unknown) => {
      this.gateway.logger.error({ trigger, err: error instanceof Error ? error.message : String(error) }, 'config reload failed; still serving the previous config');
    });
    return this.queue;
  }

  /** Stops watching; later requests do nothing (the gateway is shutting down). */
  stop(): void {
    this.stopped = true;
    this.syncWatch();
  }

  private async reload(trigger: ReloadTrigger): Promise<void> {
    if (this.stopped) return;
    const logger = this.gateway.logger;
    let config: Config;
    try {
      const text = await readConfigText(this.path);
      // One save can raise several events; only new content is a change.
      if (trigger === 'file change' && text === this.lastText) return;
      this.lastText = text;
      config = parseConfigText(text, this.path);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const { summary, issues } = describeConfigError(this.path, error);
      logger.error({ trigger, errors: issues }, `config reload rejected; still serving the previous config. ${summary}`);
      return;
    }
    this.adjust(config);
    if (this.stopped) return;
    logger.debug({ trigger }, 'config reload');
    await this.gateway.reload(config);
    this.syncWatch();
  }

  /** Starts or stops the file watch to match `server.watch_config` of the config in force. */
  private syncWatch(): void {
    const wanted = !this.stopped && this.gateway.config.server.watch_config;
    if (wanted && !this.stopWatching) {
      this.stopWatching = watchConfigFile(this.path, () => void this.request('file change'));
    } else if (!wanted && this.stopWatching) {
      this.stopWatching();
      this.stopWatching = undefined;
    }
  }
}
