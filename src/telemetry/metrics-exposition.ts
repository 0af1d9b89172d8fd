import { CollectedCounter, CollectedHistogram, HistogramState, project, type CounterSample, type HistogramSample, type Labels } from './metrics-aggregate.js';
import type { GatewayMetrics } from './metrics.js';
import { DURATION_BOUNDS_S, errorClassOf, GAP_BOUNDS_S, OVERHEAD_BOUNDS_S, TTFT_BOUNDS_S, type CountTable, type RequestSeries } from './metrics-series.js';

/**
 * The counters and histograms fed by settled records, as prom-client sees them. Each reads the
 * finest request series and sums over the labels it does not show; docs/observability.md lists
 * every metric with its labels.
 */
export function registerGatewayMetrics(metrics: GatewayMetrics): void {
  const registry = metrics.registry;
  const series = () => metrics.requests.values();
  const counter = (name: string, help: string, collect: () => Iterable<CounterSample>) => new CollectedCounter(name, help, collect).register(registry);
  const histogram = (name: string, help: string, bounds: readonly number[], collect: () => Iterable<HistogramSample>) => new CollectedHistogram(name, help, bounds, collect).register(registry);

  counter('breakerbox_requests_total', 'Settled requests by endpoint, client dialect, public model, provider, stream, HTTP status and BB_* error code (empty on success).', () => requestSamples(series()));
  counter('breakerbox_tokens_total', 'Tokens by type: input, output, cached (input read from the prompt cache), reasoning (part of output), cache_write.', () => tokenSamples(series()));
  counter('breakerbox_cost_usd_total', 'Cost in US dollars of the usage served, at the configured prices.', () =>
    sums(series(), (item) => ({ endpoint: item.endpoint, model: item.model, provider: item.provider }), (item) => (item.costUsd > 0 ? item.costUsd : undefined)),
  );
  histogram('breakerbox_request_duration_seconds', 'Whole request, from arrival to the last byte (streams included).', DURATION_BOUNDS_S, () =>
    histograms(series(), (item) => ({ endpoint: item.endpoint, model: item.model, provider: item.provider, stream: item.stream }), (item) => item.duration, DURATION_BOUNDS_S),
  );
  histogram('breakerbox_time_to_first_token_seconds', 'Streams: arrival to the first content sent to the client.', TTFT_BOUNDS_S, () =>
    histograms(series(), (item) => ({ model: item.model, provider: item.provider }), (item) => item.ttft, TTFT_BOUNDS_S),
  );
  histogram('breakerbox_stream_chunk_gap_seconds', 'Streams: time between two chunks sent to the client.', GAP_BOUNDS_S, () =>
    histograms(series(), (item) => ({ model: item.model, provider: item.provider }), (item) => item.gaps, GAP_BOUNDS_S),
  );
  histogram('breakerbox_gateway_overhead_seconds', 'Time the gateway itself added: the whole request minus the upstream time.', OVERHEAD_BOUNDS_S, () =>
    histograms(series(), (item) => ({ endpoint: item.endpoint, stream: item.stream }), (item) => item.overhead, OVERHEAD_BOUNDS_S),
  );
  counter('breakerbox_upstream_errors_total', 'Failed upstream attempts (retries and fallbacks included) by provider, BB_* code and error class.', () =>
    rows(metrics.upstreamErrors, ([provider = '', code = '']) => ({ provider, code, class: errorClassOf(code) })),
  );
  counter('breakerbox_limit_rejections_total', 'Requests refused or cut by a limit or budget, by BB_* code and limit (the plan field, when known).', () =>
    rows(metrics.limitRejections, ([endpoint = '', model = '', code = '', limit = '']) => ({ endpoint, model, code, limit })),
  );
  counter('breakerbox_access_denials_total', 'Requests an access rule refused, by the rule that refused.', () =>
    rows(metrics.accessDenials, ([endpoint = '', model = '', rule = '']) => ({ endpoint, model, rule })),
  );
  counter('breakerbox_guardrail_actions_total', 'Guardrail actions by guard, entity found and action taken.', () =>
    rows(metrics.guardrailActions, ([guard = '', entity = '', action = '']) => ({ guard, entity, action })),
  );
}

function* requestSamples(series: Iterable<RequestSeries>): Iterable<CounterSample> {
  for (const item of series) {
    for (const [outcome, value] of item.outcomes) {
      const space = outcome.indexOf(' ');
      yield { labels: { endpoint: item.endpoint, dialect: item.dialect, model: item.model, provider: item.provider, stream: item.stream, status: outcome.slice(0, space), code: outcome.slice(space + 1) }, value };
    }
  }
}

const TOKEN_TYPES = [
  ['input', (item: RequestSeries) => item.inputTokens],
  ['output', (item: RequestSeries) => item.outputTokens],
  ['cached', (item: RequestSeries) => item.cachedTokens],
  ['reasoning', (item: RequestSeries) => item.reasoningTokens],
  ['cache_write', (item: RequestSeries) => item.cacheWriteTokens],
] as const;

function tokenSamples(series: Iterable<RequestSeries>): CounterSample[] {
  const items = [...series];
  const out: CounterSample[] = [];
  for (const [type, read] of TOKEN_TYPES) {
    // Input and output always show once a model served; the optional kinds only once they occur.
    const required = type === 'input' || type === 'output';
    for (const sample of sums(items, (item) => ({ endpoint: item.endpoint, model: item.model, provider: item.provider, type }), (item) => (item.provider === '' ? undefined : read(item)))) {
      if (required || sample.value > 0) out.push(sample);
    }
  }
  return out;
}

function sums(series: Iterable<RequestSeries>, labelsOf: (item: RequestSeries) => Labels, valueOf: (item: RequestSeries) => number | undefined): CounterSample[] {
  return project(
    series,
    labelsOf,
    (item) => {
      const value = valueOf(item);
      return value === undefined ? undefined : { total: value };
    },
    () => ({ total: 0 }),
    (into, from) => (into.total += from.total),
  ).map(({ labels, value }) => ({ labels, value: value.total }));
}

function histograms(series: Iterable<RequestSeries>, labelsOf: (item: RequestSeries) => Labels, stateOf: (item: RequestSeries) => HistogramState | undefined, bounds: readonly number[]): HistogramSample[] {
  return project(series, labelsOf, stateOf, () => new HistogramState(bounds), (into, from) => into.addState(from)).map(({ labels, value }) => ({ labels, state: value }));
}

function* rows(table: CountTable, labelsOf: (values: string[]) => Labels): Iterable<CounterSample> {
  for (const row of table.rows.values()) yield { labels: labelsOf(row.values), value: row.count };
}
