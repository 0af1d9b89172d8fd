import type {
  ApiKeyRecord,
  CustomerRecord,
  IdentitySnapshot,
  OrganizationRecord,
  PlanRecord,
  TeamRecord,
  UserRecord,
} from './records.js';
import type { LedgerRepository } from './ledger-records.js';
import type { AuditRepository } from './audit-records.js';
import type { UsageRepository } from '../usage/analytics/types.js';

/** Fields the store fills in itself. */
type Generated = 'createdAt' | 'updatedAt';

export type OrganizationInput = Omit<OrganizationRecord, Generated | 'id'> & { id?: string };
export type TeamInput = Omit<TeamRecord, Generated | 'id'> & { id?: string };
export type UserInput = Omit<UserRecord, Generated | 'id'> & { id?: string };
export type PlanInput = Omit<PlanRecord, Generated>;
export type CustomerInput = Omit<CustomerRecord, Generated>;
export type ApiKeyInput = Omit<ApiKeyRecord, Generated | 'id'> & { id?: string };

/**
 * A patch: a key set to `undefined` is left alone, a key set to `null` clears an optional field.
 */
export type Patch<T> = { [K in keyof T]?: undefined extends T[K] ? T[K] | null : T[K] };

/** CRUD over one kind of record. Ids are the primary key (plans: the name). */
export interface Repository<Row, Input> {
  create(input: Input): Promise<Row>;
  get(id: string): Promise<Row | undefined>;
  list(): Promise<Row[]>;
  /** Undefined when no row has that id. */
  update(id: string, patch: Patch<Omit<Row, 'id' | 'createdAt' | 'updatedAt'>>): Promise<Row | undefined>;
  /** False when no row has that id. */
  delete(id: string): Promise<boolean>;
}

/**
 * Durable records (identity now; the ledger and audit log later), behind one interface with an
 * SQLite and a PostgreSQL implementation. Every change bumps a store-wide revision in the same
 * transaction, so gateway instances notice changes by reading one number.
 */
export interface RecordStore {
  readonly driver: 'sqlite' | 'postgres';
  readonly organizations: Repository<OrganizationRecord, OrganizationInput>;
  readonly teams: Repository<TeamRecord, TeamInput>;
  readonly users: Repository<UserRecord, UserInput>;
  readonly plans: Repository<PlanRecord, PlanInput>;
  readonly customers: Repository<CustomerRecord, CustomerInput>;
  readonly apiKeys: Repository<ApiKeyRecord, ApiKeyInput> & {
    findByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
    /**
     * Rotation in one transaction: stores the new key and shortens the old key's expiry to
     * `oldExpiresAt` (never lengthens it). Undefined when the old key does not exist.
     */
    rotate(oldId: string, replacement: ApiKeyInput, oldExpiresAt: string): Promise<ApiKeyRecord | undefined>;
  };
  /** The hash-chained audit log (admin actions, denials, guardrail actions). Appends do not bump the revision. */
  readonly audit: AuditRepository;
  /** The usage ledger's `requests` table: idempotent batch inserts by request id, retention. Writes do not bump the revision. */
  readonly ledger: LedgerRepository;
  /** Usage rollups over the ledger and the snapshot reads analytics queries run on (docs/analytics.md). */
  readonly usage: UsageRepository;
  /** The store-wide change counter; cheap, read by every instance on a short interval. */
  revision(): Promise<number>;
  /** All identity records and the revision they belong to, read in one transaction. */
  snapshot(): Promise<IdentitySnapshot>;
  close(): Promise<void>;
}

/** A create or update would break a uniqueness rule (same name, same id, same key hash). */
export class RecordConflictError extends Error {
  constructor(
    readonly entity: string,
    readonly field: string,
  ) {
    super(`a ${entity} with that ${field} already exists`);
    this.name = 'RecordConflictError';
  }
}

/** A create or update refers to a row that does not exist (e.g. a team id for a user). */
export class RecordReferenceError extends Error {
  constructor(
    readonly entity: string,
    readonly field: string,
  ) {
    super(`the ${field} of the ${entity} refers to nothing`);
    this.name = 'RecordReferenceError';
  }
}

/** How to open a store. SQLite `path` may be `:memory:`; PostgreSQL takes a URL and an optional schema. */
export type StoreOptions =
  | { driver: 'sqlite'; path: string }
  | { driver: 'postgres'; url: string; schema?: string; poolSize?: number };

/** A delete would orphan other rows (a team that still owns keys, a plan still referenced). */
export class RecordInUseError extends Error {
  constructor(
    readonly entity: string,
    readonly usedBy: string,
  ) {
    super(`the ${entity} is still used by ${usedBy}`);
    this.name = 'RecordInUseError';
  }
}
