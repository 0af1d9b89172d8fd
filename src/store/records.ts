import type { Role } from '../core/principal.js';

/**
 * The durable identity records, as the rest of the gateway sees them. Timestamps are ISO-8601
 * strings in UTC; list-like and free-form fields are plain values (stored as JSON text).
 * `undefined` on an optional list means "no restriction of its own".
 */

export interface OrganizationRecord {
  id: string;
  name: string;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface TeamRecord {
  id: string;
  orgId: string;
  /** Unique across the store; access rules and JWT claims refer to teams by name. */
  name: string;
  plan?: string;
  models?: string[];
  endpoints?: string[];
  /** Limits of the team itself, shared by its keys and users (a plan's `limits` shape). */
  limits?: Record<string, unknown>;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface UserRecord {
  id: string;
  orgId: string;
  teamId?: string;
  /** Unique across the store (a login name or an email address). */
  name: string;
  role: Role;
  plan?: string;
  models?: string[];
  /** Limits of the user, shared by all the user's keys. */
  limits?: Record<string, unknown>;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface PlanRecord {
  /** Plans are referenced by name; the name is the primary key. */
  name: string;
  /** The entitlements, validated by the config's plan schema before they are stored. */
  spec: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** An end customer of the caller's product: the `user` field clients send with a request. */
export interface CustomerRecord {
  /** The value clients send in `user` (or the Anthropic `metadata.user_id`). */
  id: string;
  plan?: string;
  blocked: boolean;
  metadata: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export type KeyStatus = 'enabled' | 'disabled' | 'revoked';

export interface ApiKeyRecord {
  id: string;
  name: string;
  /** sha256 hex of the secret; the secret itself is never stored. */
  keyHash: string;
  /** A short, non-secret start of the key, e.g. `bb-7fQx…`. */
  displayPrefix: string;
  ownerType: 'user' | 'team';
  ownerId: string;
  plan?: string;
  models?: string[];
  /** Limits of this key alone, on top of its plan's. */
  limits?: Record<string, unknown>;
  endpoints?: string[];
  tags: string[];
  metadata: Record<string, unknown>;
  expiresAt?: string;
  status: KeyStatus;
  revokedAt?: string;
  /** The key this one replaced by rotation. */
  rotatedFrom?: string;
  /** Who made it: a key id, `admin-key`, or `jwt:<subject>`. */
  createdBy?: string;
  createdAt: string;
  updatedAt: string;
}

/** Everything the hot path needs to resolve principals, read in one go. */
export interface IdentitySnapshot {
  revision: number;
  organizations: OrganizationRecord[];
  teams: TeamRecord[];
  users: UserRecord[];
  plans: PlanRecord[];
  customers: CustomerRecord[];
  apiKeys: ApiKeyRecord[];
}
