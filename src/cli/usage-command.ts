import { parseArgs } from 'node:util';
import type { z } from 'zod';
import type { usageAnswerSchema } from '../admin/resources/usage.js';
import { ConfigError, formatIssue } from '../config/issues.js';
import type { Config } from '../config/schema.js';
import { DIMENSION_NAMES, isDimension } from '../usage/analytics/dimensions.js';
import { MEASURES, isMeasure, type MeasureKind } from '../usage/analytics/measures.js';
import { CliError, reportCliFailure, remoteAdminClient } from './admin-client.js';
import { expectBody, shortTime } from './admin-format.js';

type UsageAnswer = z.infer<typeof usageAnswerSchema>;
type Values = Record<string, number | null>;

export const USAGE_HELP = `Usage: breakerbox usage (--config <file> | --url <gateway>) [options]

Usage analytics over the ledger (docs/analytics.md). With --config the local record store is
read (the rollup job runs first); with --url a running gateway's /admin/v1/usage (BB_ADMIN_KEY).

Options:
  --by <dim>[,<dim>]      group by: ${DIMENSION_NAMES.join(', ')}
  --from <time>           ISO date or time (2025-06-01, 2025-06-01T12:00Z) or a time before now (24h, 7d); default 24h
  --to <time>             default now
  --bucket <size>         time buckets: 15m, 1h, 1d, ...
  --compare <from>..<to>  compare with this baseline period, e.g. --from 7d --compare 14d..7d
  --top <n>               only the first n groups (by --order)
  --order <m>[:asc]       rank by this measure (descending unless :asc); comparisons rank by its change
  --measures <m>[,<m>]    measures to show (default: requests, errors, tokens, cost, latency)
  --where <dim>=<value>   only rows with this value (repeatable), e.g. --where model=demo
  --source raw            skip the rollups and read raw rows (to check them; slow on a large ledger)
  --json                  print the API's JSON answer
  --admin-key <key>       for --url; prefer the BB_ADMIN_KEY environment variable

Examples:
  breakerbox usage --config breakerbox.yaml --by model
  breakerbox usage --config breakerbox.yaml --by team --from 7d --bucket 1d
  breakerbox usage --config breakerbox.yaml --by template --from 7d --compare 14d..7d --order output_tokens_per_request --top 5
  breakerbox usage --config breakerbox.yaml --by customer --measures requests,max_input_tokens,p95_input_tokens --order p95_input_tokens --top 10
`;

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  url: { type: 'string' },
  'admin-key': { type: 'string' },
  by: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  bucket: { type: 'string' },
  compare: { type: 'string' },
  top: { type: 'string' },
  order: { type: 'string' },
  measures: { type: 'string' },
  where: { type: 'string', multiple: true },
  source: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Parsed = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** The admin API's query string for the flags (the API validates the values and names any bad one). */
export function usageParams(values: Parsed): URLSearchParams {
  const params = new URLSearchParams();
  const set = (name: string, value: string | undefined) => value !== undefined && params.set(name, value);
  set('group_by', values.by);
  set('from', values.from);
  set('to', values.to);
  set('bucket', values.bucket);
  set('top', values.top);
  set('order', values.order);
  set('measures', values.measures);
  set('source', values.source);
  if (values.compare !== undefined) {
    const [from, to, ...rest] = values.compare.split('..');
    if (!from || !to || rest.length > 0) throw new CliError('--compare takes <from>..<to>, e.g. 14d..7d or 2025-05-01..2025-05-08');
    params.set('compare_from', from);
    params.set('compare_to', to);
  }
  for (const condition of values.where ?? []) {
    const at = condition.indexOf('=');
    const dim = at < 0 ? condition : condition.slice(0, at);
    if (at < 0 || !isDimension(dim)) throw new CliError(`--where takes <dimension>=<value> with a dimension of: ${DIMENSION_NAMES.join(', ')}`);
    params.append(dim, condition.slice(at + 1));
  }
  return params;
}

/** Runs `breakerbox usage ...`; returns the exit code. */
export async function runUsageCommand(argv: string[], env: NodeJS.ProcessEnv = process.env, print: (text: string) => void = (text) => void process.stdout.write(text)): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
    if (values.help) {
      print(USAGE_HELP);
      return 0;
    }
    if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
    if ((values.config === undefined) === (values.url === undefined)) throw new CliError('give exactly one of --config <file> (local record store) or --url <gateway url> (running gateway)');
    const params = usageParams(values);
    const answer = values.config !== undefined ? await localAnswer(values.config, params, values['admin-key']) : await remoteAnswer(values.url as string, params, values['admin-key'] ?? env.BB_ADMIN_KEY);
    print(values.json ? `${JSON.stringify(answer, null, 2)}\n` : formatAnswer(answer));
    return 0;
  } catch (error) {
    return reportCliFailure('breakerbox usage', error);
  }
}

async function remoteAnswer(url: string, params: URLSearchParams, key: string | undefined): Promise<UsageAnswer> {
  if (key === undefined || key.trim() === '') throw new CliError('--url needs an admin key: set BB_ADMIN_KEY (or pass --admin-key)');
  const [{ usageAnswerSchema: schema }] = await Promise.all([import('../admin/resources/usage.js')]);
  const client = remoteAdminClient(url, key.trim());
  try {
    return expectBody(await client.call('GET', `/usage?${params.toString()}`), schema);
  } finally {
    await client.close();
  }
}

/** Reads the configured store directly, as the full-rights CLI actor; folds new rows first. */
async function localAnswer(configPath: string, params: URLSearchParams, adminKey: string | undefined): Promise<UsageAnswer> {
  if (adminKey !== undefined) throw new CliError('--admin-key is only used with --url');
  // Loaded here: --url and --help need none of the store.
  const [{ loadConfigFile }, { openConfiguredStore }, { parseUsageQuery, UsageQueryError }, { runUsageQuery }] = await Promise.all([
    import('../config/load.js'),
    import('../gateway.js'),
    import('../usage/analytics/query-spec.js'),
    import('../usage/analytics/run-query.js'),
  ]);
  let config: Config;
  try {
    config = await loadConfigFile(configPath);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const first = error.issues[0];
    throw new CliError(`${configPath}: ${first ? formatIssue(first) : 'invalid config'}`);
  }
  if (config.store.driver === 'sqlite' && config.store.path === ':memory:') throw new CliError(`${configPath}: store.path is ':memory:', so there is no ledger to read; use --url <gateway>`);
  let query;
  try {
    query = parseUsageQuery(params, { now: Date.now() });
  } catch (error) {
    if (error instanceof UsageQueryError) throw new CliError(error.message);
    throw error;
  }
  const store = await openConfiguredStore(config);
  try {
    // The rollup job, run to the end; rows still settling (PostgreSQL) are read raw by the query.
    for (let result = await store.usage.fold(); result.pending; result = await store.usage.fold());
    return await runUsageQuery(store.usage, query);
  } finally {
    await store.close();
  }
}

function header(name: string): string {
  return name.toUpperCase();
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** A measure value for a table cell. */
export function formatValue(kind: MeasureKind, value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (kind === 'usd') return `$${value >= 1 || value === 0 ? value.toFixed(2) : value.toPrecision(3)}`;
  if (kind === 'rate') return `${(value * 100).toFixed(2)}%`;
  if (kind === 'ms') return NUMBER.format(Math.round(value * 10) / 10);
  return NUMBER.format(value);
}

function kindOf(measure: string): MeasureKind {
  return isMeasure(measure) ? MEASURES[measure].kind : 'count';
}

/** Text columns left-aligned, numbers right-aligned, two spaces apart. */
export function alignTable(headers: string[], rows: string[][], numeric: boolean[]): string {
  const widths = headers.map((title, index) => Math.max(title.length, ...rows.map((row) => (row[index] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((cell, index) => (numeric[index] ? cell.padStart(widths[index] ?? 0) : cell.padEnd(widths[index] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}

function changeText(change: { delta: number | null; ratio: number | null }, before: number | null | undefined, after: number | null | undefined): string {
  if (change.ratio !== null) return `${change.ratio >= 1 ? '+' : ''}${((change.ratio - 1) * 100).toFixed(1)}%`;
  if (!before && after) return 'new';
  if (before && !after) return 'gone';
  return '-';
}

/** The answer as a title line and an aligned table. */
export function formatAnswer(answer: UsageAnswer): string {
  const by = answer.group_by.length > 0 ? ` by ${answer.group_by.join(', ')}` : '';
  const scope = answer.team !== null ? ` (team ${answer.team})` : '';
  const buckets = answer.bucket !== null ? `, ${answer.bucket} buckets` : '';
  let out = `Usage ${shortTime(answer.from)} to ${shortTime(answer.to)}${by}${buckets}${scope}\n`;
  if (answer.compare !== null) out += `compared with ${shortTime(answer.compare.from)} to ${shortTime(answer.compare.to)}\n`;
  out += '\n';
  if (answer.rows.length === 0) return `${out}No usage in this range.\n`;
  const labels = Object.keys(answer.rows[0]?.group ?? {});
  const texts = (row: UsageAnswer['rows'][number]) => labels.map((label) => row.group[label] ?? '');
  if (answer.compare !== null) {
    const measure = answer.order.split(':')[0] as string;
    const kind = kindOf(measure);
    const headers = [...labels.map(header), `${header(measure)} BEFORE`, `${header(measure)} NOW`, 'CHANGE', 'REQUESTS BEFORE', 'REQUESTS NOW'];
    const rows = answer.rows.map((row) => {
      const before: Values = row.baseline ?? {};
      const after: Values = row.current ?? {};
      return [
        ...texts(row).map((cell) => cell || '-'),
        formatValue(kind, before[measure]),
        formatValue(kind, after[measure]),
        changeText(row.change ?? { delta: null, ratio: null }, before[measure], after[measure]),
        formatValue('count', before.requests),
        formatValue('count', after.requests),
      ];
    });
    out += alignTable(headers, rows, headers.map((_, index) => index >= labels.length));
  } else {
    const bucketed = answer.bucket !== null;
    const headers = [...(bucketed ? ['BUCKET'] : []), ...labels.map(header), ...answer.measures.map(header)];
    const rows = answer.rows.map((row) => [
      ...(bucketed ? [shortTime(row.bucket)] : []),
      ...texts(row).map((cell) => cell || '-'),
      ...answer.measures.map((measure) => formatValue(kindOf(measure), row.values?.[measure])),
    ]);
    const offset = (bucketed ? 1 : 0) + labels.length;
    out += alignTable(headers, rows, headers.map((_, index) => index >= offset));
  }
  if (answer.truncated) out += `(only the first ${answer.rows.length} rows; use --top or a shorter range)\n`;
  if (!answer.rollups.unfolded_included) out += `(${answer.rollups.unfolded_rows} ledger rows are not in the rollups yet and were left out; the rollup job is catching up)\n`;
  return out;
}
