import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { ERROR_REGISTRY, type ErrorCode } from '../core/errors.js';
import { requestSettledChannel, type RequestRecord } from '../core/request-record.js';
import type { Config } from '../config/schema.js';
import type { BreakerReport } from '../routing/breakers.js';
import { HistogramState } from './metrics-aggregate.js';
import { registerGatewayMetrics } from './metrics-exposition.js';
import type { GuardDecisionLabels, ObservedAttempt, ObservedRecord } from './metrics-record-fields.js';
import { CountTable, GAP_BOUNDS_S, OTHER, OVERHEAD_BOUNDS_S, RequestSeries, TTFT_BOUNDS_S } from './metrics-series.js';

/** Most distinct values a label fed by free text (access rule, guardrail names) may take; the rest count as `other`. */
const MAX_FREE_LABEL_VALUES = 100;

const LIMIT_CODES: ReadonlySet<string> = new Set(['BB_RATE_LIMITED', 'BB_BUDGET_EXCEEDED', 'BB_INPUT_TOO_LARGE', 'BB_OUTPUT_CAP_EXCEEDED', 'BB_PRICE_UNKNOWN', 'BB_LIMITS_UNAVAILABLE']);

/** What the metrics read from the running gateway; getters, so a reload is seen at once. */
export interface MetricsSources {
  /** Configured public model and provider names: label values outside them count as `other`. */
  names(): { models: ReadonlySet<string>; providers: ReadonlySet<string> };
  /** Circuit breaker per target (`runtime.router.board.report()`). */
  breakers(): readonly BreakerReport[];
  /** Requests the server is handling now. */
  inFlight(): number;
  /** Records waiting in the ledger's queue; the ledger provides it (see setLedgerQueueDepth). */
  ledgerQueueDepth?: () => number;
}

/**
 * `names()` for MetricsSources from a config getter: the sets are rebuilt only when the config
 * object changes (a reload), so a request pays one identity compare.
 */
export function configuredNames(config: () => Pick<Config, 'models' | 'providers'>): MetricsSources['names'] {
  let last: Pick<Config, 'models' | 'providers'> | undefined;
  let names = { models: new Set<string>(), providers: new Set<string>() };
  return () => {
    const current = config();
    if (current !== last) {
      last = current;
      names = { models: new Set(Object.keys(current.models)), providers: new Set(Object.keys(current.providers)) };
    }
    return names;
  };
}

export interface MetricsOptions {
  /** Node.js process metrics (prom-client's defaults), prefixed `breakerbox_`. */
  processMetrics: boolean;
}

/**
 * Prometheus metrics for one gateway: fed by the settled-request channel, served
 * by `GET /metrics`. Labels are bounded: model and provider names outside the running config
 * become `other`, and nothing per request, user, key, customer or conversation is ever a label.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests = new Map<string, RequestSeries>();
  /** provider, code */
  readonly upstreamErrors = new CountTable();
  /** endpoint, model, code, limit */
  readonly limitRejections = new CountTable();
  /** endpoint, model, rule */
  readonly accessDenials = new CountTable();
  /** guard, entity, action */
  readonly guardrailActions = new CountTable();
  private readonly freeLabels = new Map<string, Set<string>>();
  private ledgerQueueDepth: (() => number) | undefined;
  // A subscriber that throws would surface as an uncaught exception: metrics must never take the gateway down.
  private readonly onSettled = (message: unknown) => guard(() => this.observe(message as RequestRecord));
  private subscribed = false;

  constructor(private readonly sources: MetricsSources, options: MetricsOptions) {
    this.ledgerQueueDepth = sources.ledgerQueueDepth;
    registerGatewayMetrics(this);
    const registers = [this.registry];
    new Gauge({
      name: 'breakerbox_requests_in_flight',
      help: 'Requests the gateway is handling now (all endpoints).',
      registers,
      collect() {
        this.set(sources.inFlight());
      },
    });
    new Gauge({
      name: 'breakerbox_breaker_state',
      help: 'Circuit breaker per upstream target: 0 closed, 1 half-open, 2 open.',
      labelNames: ['target'],
      registers,
      collect() {
        this.reset();
        for (const report of sources.breakers()) this.set({ target: report.target }, report.state === 'open' ? 2 : report.state === 'half-open' ? 1 : 0);
      },
    });
    const readDepth = () => this.ledgerQueueDepth?.();
    new Gauge({
      name: 'breakerbox_ledger_queue_depth',
      help: 'Settled requests waiting to be written to the usage ledger.',
      registers,
      collect() {
        const depth = readDepth();
        if (depth !== undefined) this.set(depth);
      },
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'breakerbox_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The ledger's queue depth, read at each scrape (the ledger may start after the metrics). */
  setLedgerQueueDepth(read: (() => number) | undefined): void {
    this.ledgerQueueDepth = read;
  }

  /** Subscribes to the settle channel; returns the unsubscribe. */
  start(): () => void {
    if (!this.subscribed) {
      this.subscribed = true;
      requestSettledChannel.subscribe(this.onSettled);
    }
    return () => this.stop();
  }

  stop(): void {
    if (!this.subscribed) return;
    this.subscribed = false;
    requestSettledChannel.unsubscribe(this.onSettled);
  }

  /** One settled request: a map lookup on a prebuilt key and a few additions (bench: metrics_observe). */
  observe(input: RequestRecord): void {
    const record = input as ObservedRecord;
    const names = this.sources.names();
    const model = boundName(record.requestedModel, names.models);
    const provider = boundName(record.provider, names.providers);
    const endpoint = record.endpoint;
    const dialect = record.dialect ?? '';
    const stream = record.stream ? 'true' : 'false';
    const key = `${endpoint}\u0000${dialect}\u0000${model}\u0000${provider}\u0000${stream}`;
    let series = this.requests.get(key);
    if (!series) {
      series = new RequestSeries(endpoint, dialect, model, provider, stream);
      this.requests.set(key, series);
    }
    const code = record.errorCode === undefined ? '' : boundCode(record.errorCode);
    const outcome = `${record.status} ${code}`;
    series.outcomes.set(outcome, (series.outcomes.get(outcome) ?? 0) + 1);
    const usage = record.usage;
    if (usage) {
      series.inputTokens += usage.inputTokens;
      series.outputTokens += usage.outputTokens;
      if (usage.cachedInputTokens) series.cachedTokens += usage.cachedInputTokens;
      if (usage.reasoningTokens) series.reasoningTokens += usage.reasoningTokens;
      if (usage.cacheCreationTokens) series.cacheWriteTokens += usage.cacheCreationTokens;
    }
    if (record.costUsd !== undefined) series.costUsd += record.costUsd;
    series.duration.observe(record.totalMs / 1000);
    if (record.ttftMs !== undefined) (series.ttft ??= new HistogramState(TTFT_BOUNDS_S)).observe(record.ttftMs / 1000);
    if (record.gatewayOverheadMs !== undefined) (series.overhead ??= new HistogramState(OVERHEAD_BOUNDS_S)).observe(record.gatewayOverheadMs / 1000);
    const gaps = record.streamGaps;
    if (gaps && gaps.count > 0) (series.gaps ??= new HistogramState(GAP_BOUNDS_S)).addCounts(gaps.counts, gaps.sumMs / 1000, gaps.count);
    for (const attempt of record.attempts as ObservedAttempt[]) {
      if (attempt.outcome !== 'ok') this.upstreamErrors.add([boundName(attempt.provider, names.providers), boundCode(attempt.outcome)]);
    }
    for (const decision of record.guards) this.observeGuardrail(decision);
    if (code !== '') {
      if (LIMIT_CODES.has(code)) this.limitRejections.add([endpoint, model, code, record.rejectedLimit === undefined ? '' : this.free('limit', record.rejectedLimit)]);
      if (record.access?.decision === 'deny') this.accessDenials.add([endpoint, model, this.free('rule', record.access.rule ?? '')]);
    }
  }

  /** One guardrail decision (from `record.guards`; exported for a guard that acts outside a request). */
  observeGuardrail(decision: GuardDecisionLabels): void {
    this.guardrailActions.add([this.free('guard', decision.guard), decision.entity === undefined ? '' : this.free('entity', decision.entity), this.free('action', decision.action)]);
  }

  /** A label value from config or code that we cannot enumerate: cleaned, and capped in number. */
  private free(label: string, raw: string): string {
    const value = String(raw).replace(/[^\w.:/-]/g, '_').slice(0, 64);
    let seen = this.freeLabels.get(label);
    if (!seen) this.freeLabels.set(label, (seen = new Set()));
    if (seen.has(value)) return value;
    if (seen.size >= MAX_FREE_LABEL_VALUES) return OTHER;
    seen.add(value);
    return value;
  }
}

function guard(run: () => void): void {
  try {
    run();
  } catch {
    // A malformed event is dropped; counting it is not worth a crash.
  }
}

function boundName(name: string | undefined, known: ReadonlySet<string>): string {
  if (name === undefined) return '';
  return known.has(name) ? name : OTHER;
}

function boundCode(code: ErrorCode | string): string {
  return code in ERROR_REGISTRY ? code : OTHER;
}
