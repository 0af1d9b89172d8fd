import type { FoldResult, UsageRepository } from './types.js';

export interface RollupJobOptions {
  /** Read before every run, so a config reload changes it; 0 pauses the job. */
  intervalMs(): number;
  /** Called when a run fails after one that did not, and `recovered` when one works again. */
  onTrouble?(problem: 'failed' | 'recovered', error?: unknown): void;
  /** Rows per run; a run that stops there is followed by the next one soon after. */
  rowsPerRun?: number;
  /** Rows per transaction: small, so ledger writes never wait long behind a fold. */
  chunkRows?: number;
}

export interface RollupJob {
  /** Waits for a run in progress, then stops. */
  stop(): Promise<void>;
}

/** A backlog (after an outage or a seed) is folded run after run, this far apart. */
const CATCH_UP_DELAY_MS = 20;
/** While paused (interval 0), how often to look whether a reload turned it on. */
const PAUSED_RECHECK_MS = 5_000;

/**
 * Folds new ledger rows into the usage rollups every `intervalMs` (docs/analytics.md). Every
 * instance may run it: the store serializes concurrent folds on the watermark row. Answers do
 * not wait for it: a query also reads the rows not folded yet.
 */
export function startRollupJob(repository: UsageRepository, options: RollupJobOptions): RollupJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<FoldResult | undefined> | undefined;
  let stopped = false;
  let failing = false;

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(run, delayMs);
    timer.unref();
  };

  const run = async () => {
    timer = undefined;
    const interval = options.intervalMs();
    if (interval <= 0) return schedule(PAUSED_RECHECK_MS);
    running = repository
      .fold({ maxRows: options.rowsPerRun ?? 50_000, chunkRows: options.chunkRows ?? 5_000 })
      .then((result) => {
        if (failing) options.onTrouble?.('recovered');
        failing = false;
        return result;
      })
      .catch((error: unknown) => {
        if (!failing) options.onTrouble?.('failed', error);
        failing = true;
        return undefined;
      });
    const result = await running;
    running = undefined;
    schedule(result?.pending ? CATCH_UP_DELAY_MS : interval);
  };

  schedule(Math.min(Math.max(options.intervalMs(), 0) || PAUSED_RECHECK_MS, 1_000));
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
