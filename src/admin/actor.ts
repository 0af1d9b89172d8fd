import type { Identity } from '../auth/identity.js';
import { extractCredential, secretsEqual, type RequestHeaders } from '../auth/key-secrets.js';
import type { Config } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import { ROLES, topRole, type Principal, type Role } from '../core/principal.js';

/** Who is calling the admin API, with the rights that decide what they may see and change. */
export interface Actor {
  /** Recorded as `created_by`: `admin-key`, a key id, or `jwt:<subject>`. */
  id: string;
  role: Role;
  /** Team-scoped roles see and change only this team's objects. */
  teamId?: string;
  teamName?: string;
  userId?: string;
  /** The caller's own principal (absent for the admin key), to bound what it may grant. */
  principal?: Principal;
}

export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

/**
 * The admin key (compared in constant time), an admin-role JWT, or a key whose user or config
 * entry holds a role above member. Members get 403: they may call models, not manage them.
 */
export async function resolveActor(config: Config, identity: Identity, headers: RequestHeaders): Promise<Actor> {
  const credential = extractCredential(headers);
  const adminKey = config.admin.api_key;
  if (credential !== undefined && adminKey !== undefined && secretsEqual(credential, adminKey)) return { id: 'admin-key', role: 'admin' };
  if (credential === undefined) throw new GatewayError('BB_UNAUTHENTICATED', 'No admin credential was sent. Send it as "Authorization: Bearer <key>".');
  let principal: Principal;
  try {
    principal = await identity.authenticate(headers);
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'BB_INVALID_API_KEY' && error.message === 'The API key is not valid.') {
      throw new GatewayError('BB_INVALID_API_KEY', 'The admin credential is not valid.');
    }
    throw error;
  }
  const role = topRole(principal);
  if (role === 'member' || principal.source === 'anonymous') throw new GatewayError('BB_ADMIN_FORBIDDEN', 'This credential has no admin role.');
  if (role === 'team-admin' && principal.teamId === undefined) throw new GatewayError('BB_ADMIN_FORBIDDEN', 'A team-admin credential must belong to a team.');
  return { id: principal.keyId, role, teamId: principal.teamId, teamName: principal.teamName, userId: principal.userId, principal };
}
