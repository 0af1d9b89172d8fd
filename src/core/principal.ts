/**
 * Who is calling. Resolved once per request by `auth/`, then read by policies, routing and records.
 * The identity issue extends it with user, team, organization, plan and roles.
 */
export interface Principal {
  /** Stable id of the credential (never the secret itself). */
  keyId: string;
  /** Human name of the key, for logs and records. */
  keyName: string;
  /** A short, non-secret prefix of the key for display, e.g. `bb-quic…`. */
  displayPrefix: string;
  /** Public model names this principal may use; undefined means all. */
  allowedModels?: ReadonlySet<string>;
}

/** The principal used when `auth.disabled` is set (local experiments only). */
export const ANONYMOUS_PRINCIPAL: Principal = {
  keyId: 'anonymous',
  keyName: 'anonymous',
  displayPrefix: '',
};
