/**
 * The audit log as the rest of the gateway sees it: entries chained by hash, so an edited or
 * removed entry shows when the chain is verified (src/store/audit-chain.ts holds the hashing).
 */

/** A JSON value as it is stored and hashed. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** admin: a change made through the admin API or CLI; denial: a policy refusal; guardrail: a guard acted. */
export const AUDIT_KINDS = ['admin', 'denial', 'guardrail'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

/**
 * Who acted, in the same snake_case shape the admin API shows (the JSON is hashed as stored, so it
 * is never renamed on the way out). Ids, names and a key's display prefix only: never a secret.
 */
export interface AuditActor {
  [key: string]: JsonValue | undefined;
  /** `admin-key`, `cli`, a key id, or `jwt:<subject>`. */
  key_id: string;
  /** How the actor authenticated: `admin-key`, `cli`, `virtual-key`, `static-key`, `jwt`, ... */
  source?: string;
  display_prefix?: string;
  key_name?: string;
  user?: string;
  team?: string;
  role?: string;
}

/** What a caller hands to `append`; the store adds seq and the hashes. */
export interface AuditEntryInput {
  /** When it happened (epoch ms); the append time when omitted. */
  atMs?: number;
  kind: AuditKind;
  actor: AuditActor;
  /** e.g. `keys.create`, `keys.revoke`, `access.deny`, `limits.refuse`. */
  action: string;
  targetType?: string;
  targetId?: string;
  /** Never secrets, prompt text or keys. */
  details: JsonObject;
}

/**
 * One stored entry. `actor` and `details` are typed loosely: what is read back is whatever the
 * table holds, which verification must hash as found (a tampered row need not fit the types).
 */
export interface AuditEntry {
  seq: number;
  atMs: number;
  kind: string;
  actor: JsonValue;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: JsonValue;
  prevHash: string;
  hash: string;
}

export interface AuditFilter {
  kind?: AuditKind;
  /** An exact action, or a prefix ending in `.*` (`keys.*`). */
  action?: string;
  /** Epoch ms, inclusive. */
  since?: number;
  /** Epoch ms, exclusive. */
  until?: number;
}

export interface AuditPageRequest {
  /** At most this many entries (the store caps it at 5000). */
  limit: number;
  /** The seq to continue after (asc) or before (desc); from a previous page's `nextCursor`. */
  cursor?: number;
  /** Newest first by default. */
  order?: 'asc' | 'desc';
}

export interface AuditPage {
  entries: AuditEntry[];
  /** Set when more entries may follow. */
  nextCursor?: number;
}

/** The chain head: the newest seq and its hash, kept in its own row (`audit_head`). */
export interface AuditHead {
  seq: number;
  hash: string;
}

export interface AuditProblem {
  seq: number;
  /** altered: the content does not match its hash; missing: seqs absent; broken-link: prev_hash names another entry. */
  kind: 'altered' | 'missing' | 'broken-link';
  /** For a range of missing entries: the last missing seq. */
  lastSeq?: number;
  note?: string;
}

export interface AuditVerifyOptions {
  /** A head hash noted earlier: verification fails unless an entry with this hash is in the chain. */
  expectHead?: string;
  /** Rows read per query (default 2000). */
  pageSize?: number;
}

export interface AuditVerifyResult {
  ok: boolean;
  checked: number;
  /** The newest entry's seq and hash (0 and the genesis hash for an empty log): note it elsewhere. */
  headSeq: number;
  headHash: string;
  /** The first problems found (at most 1000); `problemCount` counts them all. */
  problems: AuditProblem[];
  problemCount: number;
  /** With `expectHead`: the seq of the entry holding that hash, or null when no entry does. */
  anchorSeq?: number | null;
}

/** The audit log in the record store. */
export interface AuditRepository {
  /**
   * Appends entries, in order, as one transaction that holds the chain head, so concurrent writers
   * (other instances on the same database) still build one chain. Returns the stored entries.
   */
  append(entries: readonly AuditEntryInput[]): Promise<AuditEntry[]>;
  list(filter: AuditFilter, page: AuditPageRequest): Promise<AuditPage>;
  /** The chain head as recorded. */
  head(): Promise<AuditHead>;
  /** Walks the whole chain in seq order, page by page, so it works on millions of entries. */
  verify(options?: AuditVerifyOptions): Promise<AuditVerifyResult>;
}
