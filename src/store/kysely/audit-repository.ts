import { sql, type Kysely, type Selectable } from 'kysely';
import { ChainVerifier, canonicalJson, hashSerialized, parseStoredJson } from '../audit-chain.js';
import type {
  AuditEntry,
  AuditEntryInput,
  AuditFilter,
  AuditHead,
  AuditPage,
  AuditPageRequest,
  AuditRepository,
  AuditVerifyOptions,
  AuditVerifyResult,
} from '../audit-records.js';
import type { AuditLogTable, Database } from './tables.js';

/** Rows per INSERT: 10 parameters each stays far below both drivers' parameter limits. */
const INSERT_CHUNK = 500;
const MAX_PAGE = 5000;
const DEFAULT_VERIFY_PAGE = 2000;

function toEntry(row: Selectable<AuditLogTable>): AuditEntry {
  return {
    seq: Number(row.seq),
    atMs: Number(row.at_ms),
    kind: row.kind,
    actor: parseStoredJson(row.actor),
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: parseStoredJson(row.details),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The audit log on SQLite and PostgreSQL alike (same SQL, like every repository here). */
export class AuditLogRepository implements AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async append(inputs: readonly AuditEntryInput[]): Promise<AuditEntry[]> {
    if (inputs.length === 0) return [];
    const now = Date.now();
    return this.db.transaction().execute(async (trx) => {
      // Writing the head row first takes the lock before it is read (SQLite: the database write
      // lock; PostgreSQL: the row lock, and the UPDATE then returns the row as the previous holder
      // committed it), so concurrent appenders queue here and each continues the chain it finds.
      const head = await trx.updateTable('audit_head').set({ seq: sql`seq` }).where('id', '=', 1).returning(['seq', 'hash']).executeTakeFirst();
      if (head === undefined) throw new Error('record store is not migrated: the audit head row is missing');
      let seq = Number(head.seq);
      let prevHash = head.hash;
      const rows = inputs.map((input) => {
        seq += 1;
        const fields = { seq, atMs: Math.trunc(input.atMs ?? now), kind: input.kind, action: input.action, targetType: input.targetType ?? null, targetId: input.targetId ?? null, prevHash };
        // Serialized once: the stored text is what the hash covers.
        const actor = canonicalJson(input.actor);
        const details = canonicalJson(input.details);
        prevHash = hashSerialized(fields, actor, details);
        return { seq, at_ms: fields.atMs, kind: fields.kind, actor, action: fields.action, target_type: fields.targetType, target_id: fields.targetId, details, prev_hash: fields.prevHash, hash: prevHash };
      });
      for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
        await trx.insertInto('audit_log').values(rows.slice(start, start + INSERT_CHUNK)).execute();
      }
      await trx.updateTable('audit_head').set({ seq, hash: prevHash }).where('id', '=', 1).execute();
      return rows.map(toEntry);
    });
  }

  async list(filter: AuditFilter, page: AuditPageRequest): Promise<AuditPage> {
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.trunc(page.limit)));
    const order = page.order ?? 'desc';
    let query = this.db.selectFrom('audit_log').selectAll();
    if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
    if (filter.action !== undefined) {
      if (filter.action.endsWith('.*')) {
        // substr, not LIKE: action names may hold `_`, a LIKE wildcard.
        const prefix = filter.action.slice(0, -1);
        query = query.where(sql<string>`substr(action, 1, ${prefix.length})`, '=', prefix);
      } else {
        query = query.where('action', '=', filter.action);
      }
    }
    if (filter.since !== undefined) query = query.where('at_ms', '>=', filter.since);
    if (filter.until !== undefined) query = query.where('at_ms', '<', filter.until);
    if (page.cursor !== undefined) query = query.where('seq', order === 'desc' ? '<' : '>', page.cursor);
    const rows = await query.orderBy('seq', order).limit(limit + 1).execute();
    const entries = rows.slice(0, limit).map(toEntry);
    const last = entries[entries.length - 1];
    return rows.length > limit && last !== undefined ? { entries, nextCursor: last.seq } : { entries };
  }

  async head(): Promise<AuditHead> {
    const row = await this.db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('record store is not migrated: the audit head row is missing');
    return { seq: Number(row.seq), hash: row.hash };
  }

  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    const verifier = new ChainVerifier(options.expectHead);
    const pageSize = Math.max(1, options.pageSize ?? DEFAULT_VERIFY_PAGE);
    let head: AuditHead;
    for (;;) {
      const start = verifier.position;
      await this.scan(verifier, pageSize);
      head = await this.head();
      // A head past what was read: entries appended meanwhile (read on), or the newest entries
      // removed (nothing more to read; finish reports them missing).
      if (head.seq <= verifier.position || verifier.position === start) break;
    }
    return verifier.finish(head);
  }

  /** Feeds every entry after the verifier's position, one page per query (keyset on seq). */
  private async scan(verifier: ChainVerifier, pageSize: number): Promise<void> {
    for (;;) {
      const rows = await this.db.selectFrom('audit_log').selectAll().where('seq', '>', verifier.position).orderBy('seq').limit(pageSize).execute();
      for (const row of rows) verifier.add(toEntry(row), { actor: row.actor, details: row.details });
      if (rows.length < pageSize) return;
    }
  }
}
