/**
 * The usage ledger as the record store sees it: one row of the `requests` table per request, in
 * column names (the table is a contract with the analytics queries built on it). JSON columns
 * arrive as JSON text; booleans as 0/1; times as epoch milliseconds.
 */
export interface LedgerRow {
  request_id: string;
  started_at_ms: number;
  endpoint: string;
  dialect: string | null;
  method: string;
  path: string;
  status: number;
  error_code: string | null;
  /** How the caller authenticated (static key, virtual key, jwt). */
  key_source: string | null;
  key_id: string | null;
  key_prefix: string | null;
  key_name: string | null;
  user_name: string | null;
  team_name: string | null;
  org_id: string | null;
  plan: string | null;
  customer: string | null;
  requested_model: string | null;
  provider: string | null;
  served_model: string | null;
  template_id: string | null;
  template_version: string | null;
  conversation_id: string | null;
  /** JSON array of strings. */
  tags: string;
  /** JSON object of strings, or null. */
  metadata: string | null;
  stream: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  reasoning_tokens: number;
  /** Input tokens written to the provider's prompt cache. */
  cache_creation_tokens: number;
  usage_estimated: number;
  usage_incomplete: number;
  cost_usd: number | null;
  total_ms: number;
  ttft_ms: number | null;
  upstream_ms: number | null;
  overhead_ms: number | null;
  attempt_count: number;
  /** JSON array of attempts (target, provider, model, outcome, duration_ms, retry, upstream_status). */
  attempts: string;
  /** JSON routing trail (group, rule, strategy, candidates), or null when routing did not run. */
  routing: string | null;
  /** JSON access decision, or null. */
  access: string | null;
  /** JSON array of limit actions (`clamped:<n>`, `degraded:<model>`). */
  limit_actions: string;
  /** JSON array of guardrail decisions (guard, entity type, action, where; never a value); `[]` when omitted. */
  guards?: string;
  /** The plan field of the limit that refused the request (`requests_per_minute`, ...). */
  rejected_limit?: string | null;
  /** `max_tokens` as sent upstream (after any clamp). */
  max_tokens?: number | null;
  /** JSON array of finish reasons, one per choice. */
  finish_reasons?: string | null;
  /** The W3C trace id (32 hex digits) when tracing is on: joins a row to its trace. */
  trace_id?: string | null;
  /** Prompt text (redacted), only where `ledger.bodies` records it. */
  request_body?: string | null;
  /** Answer text (redacted), likewise. */
  response_body?: string | null;
  cache_hit: number;
}

export interface InsertOptions {
  /**
   * Fold the inserted rows into the usage rollups in the same transaction where the store can
   * (SQLite, when every earlier row is folded); otherwise the rollup job folds them later.
   */
  foldRollups?: boolean;
}

/**
 * The code of the error a row-text insert fails with when a text is not a ledger row's JSON: a
 * data error (the shipper sets the culprit aside), not an outage.
 */
export const UNREADABLE_ROW_CODE = 'LEDGER_ROW_UNREADABLE';

/** Rows from their texts (see `rowFromText`); a text that is not a row's fails them all. */
export function parseRowTexts(texts: readonly string[]): LedgerRow[] {
  return texts.map((text, index) => {
    const row = rowFromText(text);
    if (row === undefined) {
      throw Object.assign(new Error(`ledger row ${index + 1} of ${texts.length} is not a ledger row's JSON`), { code: UNREADABLE_ROW_CODE });
    }
    return row;
  });
}

/** The ledger's write side. Reads and rollups belong to the analytics queries. */
export interface LedgerRepository {
  /**
   * Inserts rows in one transaction; a row whose request_id is already stored is skipped, so an
   * outbox replay never duplicates. Resolves to the number of rows actually inserted.
   */
  insertRequests(rows: readonly LedgerRow[], options?: InsertOptions): Promise<number>;
  /**
   * Present where the store takes rows as their JSON text and parses them off the event loop (an
   * SQLite file: its writer thread). The ledger then ships its outbox's texts as they are and
   * keeps no parsed copies. A text that is not a row's JSON fails the batch with
   * `UNREADABLE_ROW_CODE`.
   */
  insertRowTexts?: ((texts: readonly string[], options?: InsertOptions) => Promise<number>) | undefined;
  /** Deletes rows that started before `cutoffMs` (epoch ms), in chunks; resolves to how many. */
  deleteOlderThan(cutoffMs: number): Promise<number>;
  /** Clears prompt and answer text from rows that started before the cutoff; the rows stay. */
  clearBodiesOlderThan(cutoffMs: number): Promise<number>;
  /** How many rows the table holds (tests and operations). */
  countRequests(): Promise<number>;
  /** How many rows hold this request id: 0 or 1 (tests). */
  countRequestId(requestId: string): Promise<number>;
  /** The stored row of a request, with `seq`; undefined when absent (tests). */
  getRequest(requestId: string): Promise<(LedgerRow & { seq: number }) | undefined>;
}

/** Every column of a ledger row, in one fixed order (for prepared, positional inserts). */
export const LEDGER_COLUMNS = [
  'request_id', 'started_at_ms', 'endpoint', 'dialect', 'method', 'path', 'status', 'error_code',
  'key_source', 'key_id', 'key_prefix', 'key_name', 'user_name', 'team_name', 'org_id', 'plan', 'customer',
  'requested_model', 'provider', 'served_model', 'template_id', 'template_version', 'conversation_id',
  'tags', 'metadata', 'stream', 'input_tokens', 'output_tokens', 'cached_tokens', 'reasoning_tokens',
  'cache_creation_tokens', 'usage_estimated', 'usage_incomplete', 'cost_usd', 'total_ms', 'ttft_ms',
  'upstream_ms', 'overhead_ms', 'attempt_count', 'attempts', 'routing', 'access', 'limit_actions', 'guards',
  'rejected_limit', 'max_tokens', 'finish_reasons', 'trace_id', 'request_body', 'response_body', 'cache_hit',
] as const satisfies ReadonlyArray<keyof LedgerRow>;

/** The format tag that opens a row's text; a later format gets a new tag. */
const ROW_TEXT_TAG = 'r1';
/** How a row's text starts: the tag, then the request id (a string). */
export const ROW_TEXT_START = `["${ROW_TEXT_TAG}",`;
/** How a row's text written before 29 November 2026 starts: a JSON object, the request id (a string) first. */
export const OBJECT_ROW_TEXT_START = '{"request_id":"';

/**
 * A row as the outbox keeps it: a JSON array of the format tag and the values in LEDGER_COLUMNS
 * order, without the keys. About half the bytes of the row as a JSON object (650 against 1,322
 * for a chat request), so less to write to the outbox, read back, hand to the writer thread and
 * parse there. Columns are only ever added at the end, so an older text is a shorter array.
 */
export function rowToText(row: LedgerRow): string {
  const values: unknown[] = new Array<unknown>(LEDGER_COLUMNS.length + 1);
  values[0] = ROW_TEXT_TAG;
  for (let i = 0; i < LEDGER_COLUMNS.length; i += 1) values[i + 1] = row[LEDGER_COLUMNS[i] as keyof LedgerRow] ?? null;
  return JSON.stringify(values);
}

/**
 * A row from its text: positional (`rowToText`), or a JSON object with a text `request_id` (the
 * format before 29 November 2026, still found in outboxes written then). Undefined when the text
 * is neither; an older version's whole request record is the ledger's to convert.
 */
export function rowFromText(text: string): LedgerRow | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (Array.isArray(parsed)) {
    if (parsed[0] !== ROW_TEXT_TAG || typeof parsed[1] !== 'string') return undefined;
    // Columns past an older text's end stay absent, so the store gives them their defaults.
    const row: Record<string, unknown> = {};
    const count = Math.min(LEDGER_COLUMNS.length, parsed.length - 1);
    for (let i = 0; i < count; i += 1) row[LEDGER_COLUMNS[i] as string] = parsed[i + 1] ?? null;
    return row as unknown as LedgerRow;
  }
  if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { request_id?: unknown }).request_id === 'string') return parsed as LedgerRow;
  return undefined;
}

/** Fails to compile when a LedgerRow field is missing from LEDGER_COLUMNS. */
const everyColumnListed: Exclude<keyof LedgerRow, (typeof LEDGER_COLUMNS)[number]> extends never ? true : never = true;
void everyColumnListed;
