import { z } from 'zod';
import type { RecordStore } from '../store/record-store.js';
import { ChainVerifier } from '../store/audit-chain.js';
import { AUDIT_KINDS, type AuditEntry, type AuditFilter, type AuditHead, type AuditPage, type AuditPageRequest, type AuditVerifyResult } from '../store/audit-records.js';
import { CliError, reportCliFailure, remoteAdminClient, type AdminClient } from './admin-client.js';
import { failUnlessOk, formatTable } from './admin-format.js';

/** Options only `breakerbox audit` takes; main.ts merges them into its parseArgs table. */
export const AUDIT_OPTIONS = {
  kind: { type: 'string' },
  action: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  'expect-head': { type: 'string' },
} as const;

export const AUDIT_USAGE = `Audit log (the local store with --config, or a running gateway with --url and BB_ADMIN_KEY):
  audit verify [--expect-head <hash>]   check the hash chain; exit 1 naming each altered, missing or
                                        relinked entry, or when the noted head hash is not in the chain
  audit list [--kind admin|denial|guardrail] [--action keys.create|keys.*]
             [--since 24h|<ISO time>] [--until <time>] [--limit N]
                                        newest entries first
`;

export interface AuditValues {
  config?: string;
  url?: string;
  'admin-key'?: string;
  json?: boolean;
  kind?: string;
  action?: string;
  since?: string;
  until?: string;
  limit?: string;
  'expect-head'?: string;
}

/** The audit log, local or through the admin API; the same verify rules apply to both. */
interface AuditSource {
  list(filter: AuditFilter, page: AuditPageRequest): Promise<AuditPage & { head?: AuditHead }>;
  verify(expectHead: string | undefined): Promise<AuditVerifyResult>;
  close(): Promise<void>;
}

const ACTION_OPTIONS: Record<string, ReadonlyArray<keyof AuditValues>> = {
  verify: ['expect-head'],
  list: ['kind', 'action', 'since', 'until', 'limit'],
};
const ALWAYS: ReadonlySet<string> = new Set(['config', 'url', 'admin-key', 'json', 'help']);

/** Runs `audit verify|list`; returns the exit code (1 for a broken chain, as for any failure). */
export async function runAuditCommand(positionals: string[], values: AuditValues & Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [, action, ...args] = positionals;
  const label = action === undefined ? 'breakerbox audit' : `breakerbox audit ${action}`;
  let source: AuditSource | undefined;
  try {
    const allowed = action === undefined ? undefined : ACTION_OPTIONS[action];
    if (allowed === undefined) throw new CliError(action === undefined ? 'name an action: verify, list' : `unknown action '${action}'; use one of: verify, list`);
    if (args.length > 0) throw new CliError(`unexpected argument '${args[0]}'`);
    const stray = Object.keys(values).find((option) => values[option] !== undefined && !ALWAYS.has(option) && !allowed.includes(option as keyof AuditValues));
    if (stray !== undefined) throw new CliError(`--${stray} does not apply here`);
    source = await openSource(values, env);
    const print = (text: string) => void process.stdout.write(text);
    if (action === 'verify') return await verify(source, values, print);
    await list(source, values, print);
    return 0;
  } catch (error) {
    return reportCliFailure(label, error);
  } finally {
    await source?.close();
  }
}

async function verify(source: AuditSource, values: AuditValues, print: (text: string) => void): Promise<number> {
  const expectHead = values['expect-head']?.trim().toLowerCase();
  if (expectHead !== undefined && !/^[0-9a-f]{64}$/.test(expectHead)) throw new CliError('--expect-head must be a 64-character hex hash, as printed by audit verify');
  const result = await source.verify(expectHead);
  if (values.json) {
    print(`${JSON.stringify(result, null, 2)}\n`);
    return result.ok ? 0 : 1;
  }
  const problems = result.problemCount;
  print(problems === 0 ? `Audit log intact: ${result.checked} entries checked.\n` : `Audit log NOT intact: ${result.checked} entries checked, ${problems} problem${problems === 1 ? '' : 's'}.\n`);
  for (const problem of result.problems) {
    const where = problem.lastSeq === undefined ? `seq ${problem.seq}` : `seq ${problem.seq}-${problem.lastSeq}`;
    print(`  ${where}: ${PROBLEM_TEXT[problem.kind]}${problem.note ? ` (${problem.note})` : ''}\n`);
  }
  if (problems > result.problems.length) print(`  ... and ${problems - result.problems.length} more\n`);
  if (result.anchorSeq !== undefined) {
    print(result.anchorSeq === null
      ? `Expected head ${expectHead} is NOT in the chain: entries up to it were removed or rewritten.\n`
      : `Expected head found at seq ${result.anchorSeq}.\n`);
  }
  print(`Head: seq ${result.headSeq} ${result.headHash}\n(keep this hash outside the database; check it later with --expect-head)\n`);
  return result.ok ? 0 : 1;
}

const PROBLEM_TEXT: Record<AuditVerifyResult['problems'][number]['kind'], string> = {
  altered: 'altered (the entry does not match its hash)',
  missing: 'missing (removed from the chain)',
  'broken-link': 'broken link (prev_hash does not name the entry before it)',
};

async function list(source: AuditSource, values: AuditValues, print: (text: string) => void): Promise<void> {
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError('--limit must be a whole number from 1 to 1000');
  const kind = values.kind;
  if (kind !== undefined && !(AUDIT_KINDS as readonly string[]).includes(kind)) throw new CliError(`--kind must be one of: ${AUDIT_KINDS.join(', ')}`);
  const filter: AuditFilter = {
    ...(kind === undefined ? {} : { kind: kind as AuditFilter['kind'] }),
    ...(values.action === undefined ? {} : { action: values.action }),
    ...(values.since === undefined ? {} : { since: timeOption('since', values.since) }),
    ...(values.until === undefined ? {} : { until: timeOption('until', values.until) }),
  };
  const page = await source.list(filter, { limit });
  if (values.json) {
    print(`${JSON.stringify({ data: page.entries.map(entryJson) }, null, 2)}\n`);
    return;
  }
  if (page.entries.length === 0) return print('No audit entries.\n');
  const rows = page.entries.map((entry) => [String(entry.seq), `${new Date(entry.atMs).toISOString().slice(0, 19).replace('T', ' ')}Z`, entry.kind, entry.action, actorText(entry.actor), [entry.targetType, entry.targetId].filter(Boolean).join(' '), short(JSON.stringify(entry.details))]);
  print(formatTable(['SEQ', 'TIME', 'KIND', 'ACTION', 'ACTOR', 'TARGET', 'DETAILS'], rows));
}

/** `24h`, `7d`, `30m`, an ISO-8601 time, or epoch milliseconds. */
export function timeOption(name: string, text: string, now = Date.now()): number {
  const relative = /^(\d+)\s*([smhd])$/.exec(text.trim());
  if (relative) return now - Number(relative[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[relative[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d{1,15}$/.test(text.trim())) return Number(text.trim());
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed)) throw new CliError(`--${name} must be a duration back from now (30m, 24h, 7d), an ISO-8601 time or epoch milliseconds`);
  return parsed;
}

function actorText(actor: unknown): string {
  if (typeof actor !== 'object' || actor === null) return String(actor);
  const fields = actor as Record<string, unknown>;
  const name = typeof fields.key_name === 'string' ? fields.key_name : String(fields.key_id ?? '?');
  const prefix = typeof fields.display_prefix === 'string' ? ` (${fields.display_prefix})` : '';
  const user = typeof fields.user === 'string' ? ` user ${fields.user}` : '';
  return `${name}${prefix}${user}`;
}

function short(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function entryJson(entry: AuditEntry) {
  return { seq: entry.seq, at: new Date(entry.atMs).toISOString(), at_ms: entry.atMs, kind: entry.kind, actor: entry.actor, action: entry.action, target_type: entry.targetType, target_id: entry.targetId, details: entry.details, prev_hash: entry.prevHash, hash: entry.hash };
}

async function openSource(values: AuditValues, env: NodeJS.ProcessEnv): Promise<AuditSource> {
  if ((values.config === undefined) === (values.url === undefined)) {
    throw new CliError('give exactly one of --config <file> (local record store) or --url <gateway url> (running gateway)');
  }
  if (values.config !== undefined) {
    if (values['admin-key'] !== undefined) throw new CliError('--admin-key is only used with --url');
    return localSource(await openLocalStore(values.config));
  }
  const key = values['admin-key'] ?? env.BB_ADMIN_KEY;
  if (key === undefined || key.trim() === '') throw new CliError('--url needs an admin key: set BB_ADMIN_KEY (or pass --admin-key)');
  return remoteSource(remoteAdminClient(values.url as string, key.trim()));
}

async function openLocalStore(configPath: string): Promise<RecordStore> {
  // Loaded here: --url and --help need neither the config loader nor a database driver.
  const [{ loadConfigFile }, { ConfigError, formatIssue }, { openRecordStore }] = await Promise.all([import('../config/load.js'), import('../config/issues.js'), import('../store/open-store.js')]);
  let store;
  try {
    store = (await loadConfigFile(configPath)).store;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const first = error.issues[0];
    throw new CliError(`${configPath}: ${first ? formatIssue(first) : 'invalid config'}`);
  }
  if (store.driver === 'postgres') return openRecordStore({ driver: 'postgres', url: store.url as string, schema: store.schema, poolSize: 2 });
  if (store.path === ':memory:') throw new CliError(`${configPath}: store.path is ':memory:', so there is no audit log to read; use --url <gateway>`);
  return openRecordStore({ driver: 'sqlite', path: store.path });
}

function localSource(store: RecordStore): AuditSource {
  return {
    list: (filter, page) => store.audit.list(filter, page),
    verify: (expectHead) => store.audit.verify(expectHead === undefined ? {} : { expectHead }),
    close: () => store.close(),
  };
}

const remoteEntry = z.object({
  seq: z.number().int(),
  at_ms: z.number().int(),
  kind: z.string(),
  actor: z.json(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  details: z.json(),
  prev_hash: z.string(),
  hash: z.string(),
});
const remotePage = z.object({ data: z.array(remoteEntry), next_cursor: z.string().nullable(), head: z.object({ seq: z.number().int(), hash: z.string() }) });

/**
 * Through a running gateway: the CLI pages through GET /admin/v1/audit and checks every hash
 * itself, so the verdict does not rest on the gateway's word.
 */
function remoteSource(client: AdminClient): AuditSource {
  const fetchPage = async (filter: AuditFilter, page: AuditPageRequest) => {
    const query = new URLSearchParams({ limit: String(page.limit), order: page.order ?? 'desc' });
    for (const [name, value] of Object.entries({ ...filter, cursor: page.cursor })) if (value !== undefined) query.set(name, String(value));
    const response = await client.call('GET', `/audit?${query.toString()}`);
    failUnlessOk(response);
    const parsed = remotePage.safeParse(response.body);
    if (!parsed.success) throw new CliError(`unexpected answer from the admin API (HTTP ${response.status}); is the gateway the same version as this CLI?`);
    const entries = parsed.data.data.map((row): AuditEntry => ({ seq: row.seq, atMs: row.at_ms, kind: row.kind, actor: row.actor, action: row.action, targetType: row.target_type, targetId: row.target_id, details: row.details, prevHash: row.prev_hash, hash: row.hash }));
    return { entries, head: parsed.data.head, ...(parsed.data.next_cursor === null ? {} : { nextCursor: Number(parsed.data.next_cursor) }) };
  };
  return {
    list: fetchPage,
    async verify(expectHead) {
      const verifier = new ChainVerifier(expectHead);
      let head: AuditHead | undefined;
      for (;;) {
        const start = verifier.position;
        for (let cursor: number | undefined = verifier.position; cursor !== undefined; ) {
          const page = await fetchPage({}, { limit: 1000, order: 'asc', cursor });
          for (const entry of page.entries) verifier.add(entry);
          head = page.head;
          cursor = page.nextCursor;
        }
        // As in the store: a head past what was read is either new entries (read on) or removed ones.
        if (head === undefined || head.seq <= verifier.position || verifier.position === start) break;
      }
      return verifier.finish(head);
    },
    close: () => client.close(),
  };
}
