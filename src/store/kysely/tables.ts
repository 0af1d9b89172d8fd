/**
 * The SQL shape of the record store, shared by SQLite and PostgreSQL. Only text and integer
 * columns so one schema serves both: JSON as text, booleans as 0/1, timestamps as ISO-8601 text.
 */

import type { ColumnType, Generated } from 'kysely';
import type { LedgerRow } from '../ledger-records.js';

/** JSON text (an object or an array), parsed by the codec. */
type JsonText = string;

export interface OrganizationsTable {
  id: string;
  name: string;
  metadata: JsonText;
  created_at: string;
  updated_at: string;
}

export interface TeamsTable {
  id: string;
  org_id: string;
  name: string;
  plan: string | null;
  models: JsonText | null;
  limits: JsonText | null;
  endpoints: JsonText | null;
  metadata: JsonText;
  created_at: string;
  updated_at: string;
}

export interface UsersTable {
  id: string;
  org_id: string;
  team_id: string | null;
  name: string;
  role: string;
  plan: string | null;
  models: JsonText | null;
  limits: JsonText | null;
  metadata: JsonText;
  created_at: string;
  updated_at: string;
}

export interface PlansTable {
  name: string;
  spec: JsonText;
  created_at: string;
  updated_at: string;
}

export interface CustomersTable {
  id: string;
  plan: string | null;
  /** 0 or 1. */
  blocked: number;
  metadata: JsonText;
  created_at: string;
  updated_at: string;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  key_hash: string;
  display_prefix: string;
  owner_type: string;
  owner_id: string;
  plan: string | null;
  models: JsonText | null;
  limits: JsonText | null;
  endpoints: JsonText | null;
  tags: JsonText;
  metadata: JsonText;
  expires_at: string | null;
  status: string;
  revoked_at: string | null;
  rotated_from: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

/** Store-wide counters; the `revision` row is bumped by every change. */
export interface StoreMetaTable {
  name: string;
  value: number;
}

/** The hash-chained audit log (migration 005); bigint columns come back as strings from pg. */
export interface AuditLogTable {
  seq: number | string;
  at_ms: number | string;
  kind: string;
  actor: JsonText;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: JsonText;
  prev_hash: string;
  hash: string;
}

/** One row (id 1): the newest audit entry's seq and hash; appenders lock it. */
export interface AuditHeadTable {
  id: number;
  seq: number | string;
  hash: string;
}

/** The usage ledger (migration 003), one row per request; bigint columns come back as strings from pg. */
export type RequestsTable = Omit<LedgerRow, 'started_at_ms'> & {
  seq: Generated<number | string>;
  started_at_ms: ColumnType<number | string, number, number>;
};

/** Kysely's view of the schema the migrations build. */
export interface Database {
  organizations: OrganizationsTable;
  teams: TeamsTable;
  users: UsersTable;
  plans: PlansTable;
  customers: CustomersTable;
  api_keys: ApiKeysTable;
  store_meta: StoreMetaTable;
  requests: RequestsTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}
