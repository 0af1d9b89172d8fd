import { checkIdentityReferences } from './identity-references.js';
import { checkRoutingReferences } from './routing-references.js';
import type { ConfigIssue } from './issues.js';
import { VENDOR_DEFAULT_BASE_URLS } from './vendor-names.js';

/**
 * Checks that cross-references resolve (targets name defined providers, keys name defined models).
 * Runs on the raw document next to the schema, so these errors are reported together with shape
 * errors instead of only after every shape error is fixed.
 */
export function checkReferences(raw: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const root = asRecord(raw);
  if (!root) return issues;
  const providers = asRecord(root.providers) ?? {};
  const models = asRecord(root.models) ?? {};
  const providerNames = Object.keys(providers);

  for (const [modelName, model] of Object.entries(models)) {
    const targets = asRecord(model)?.targets;
    if (!Array.isArray(targets)) continue;
    targets.forEach((target: unknown, index) => {
      const provider = asRecord(target)?.provider;
      if (typeof provider === 'string' && !providerNames.includes(provider)) {
        const known = providerNames.length > 0 ? providerNames.join(', ') : 'none defined';
        issues.push({
          path: ['models', modelName, 'targets', index, 'provider'],
          message: `unknown provider ${JSON.stringify(provider)} (defined providers: ${known})`,
        });
      }
    });
  }

  for (const [name, provider] of Object.entries(providers)) {
    const fields = asRecord(provider);
    if (fields?.type !== 'openai-compatible' || fields.base_url !== undefined) continue;
    const vendor = typeof fields.vendor === 'string' ? fields.vendor : 'generic';
    if (!(vendor in VENDOR_DEFAULT_BASE_URLS)) {
      issues.push({ path: ['providers', name, 'base_url'], message: `required for vendor "${vendor}" (it has no default address)` });
    }
  }

  const auth = asRecord(root.auth);
  const keys = auth?.api_keys;
  // Keys minted through the admin API or JWTs also let callers in; without any, nobody could.
  const canMintKeys = asRecord(root.admin)?.api_key !== undefined;
  if (auth?.disabled !== true && auth?.jwt === undefined && !canMintKeys && (!Array.isArray(keys) || keys.length === 0)) {
    issues.push({
      path: ['auth', 'api_keys'],
      message: 'no way to call the gateway: add an API key, auth.jwt or admin.api_key, or set auth.disabled: true for local experiments',
    });
  }
  if (Array.isArray(keys)) {
    const seenNames = new Set<unknown>();
    const seenKeys = new Set<unknown>();
    keys.forEach((key: unknown, index) => {
      const entry = asRecord(key);
      if (entry?.name !== undefined && seenNames.has(entry.name)) {
        issues.push({ path: ['auth', 'api_keys', index, 'name'], message: `duplicate key name ${JSON.stringify(entry.name)}` });
      }
      // Never echo the key itself: say which entry repeats it.
      if (entry?.key !== undefined && seenKeys.has(entry.key)) issues.push({ path: ['auth', 'api_keys', index, 'key'], message: 'the same key is configured twice' });
      seenNames.add(entry?.name);
      seenKeys.add(entry?.key);
    });
    keys.forEach((key: unknown, index) => {
      const allowed = asRecord(key)?.models;
      if (!Array.isArray(allowed)) return;
      for (const name of allowed) {
        if (typeof name === 'string' && !(name in models)) {
          issues.push({ path: ['auth', 'api_keys', index, 'models'], message: `unknown model ${JSON.stringify(name)}` });
        }
      }
    });
  }
  issues.push(...checkIdentityReferences(root));
  issues.push(...checkRoutingReferences(root));
  return issues;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
