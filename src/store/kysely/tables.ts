/**
 * The SQL shape of the record store, shared by SQLite and PostgreSQL. Only text and integer
 * columns so one schema serves both: JSON as text, booleans as 0/1, timestamps as ISO-8601 text.
 */

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

/** Kysely's view of the schema the migrations build. */
export interface Database {
  organizations: OrganizationsTable;
  teams: TeamsTable;
  users: UsersTable;
  plans: PlansTable;
  customers: CustomersTable;
  api_keys: ApiKeysTable;
  store_meta: StoreMetaTable;
}
