import type { Config } from '../config/schema.js';
import { RecordConflictError, type RecordStore } from '../store/index.js';

export const DEFAULT_ORGANIZATION = 'default';

/** The id of the organization named "default", made on first use. */
export async function defaultOrganizationId(store: RecordStore): Promise<string> {
  const find = async () => (await store.organizations.list()).find((org) => org.name === DEFAULT_ORGANIZATION);
  const existing = await find();
  if (existing) return existing.id;
  try {
    return (await store.organizations.create({ name: DEFAULT_ORGANIZATION, metadata: {} })).id;
  } catch (error) {
    // Another instance made it first.
    if (!(error instanceof RecordConflictError)) throw error;
    const made = await find();
    if (!made) throw error;
    return made.id;
  }
}

/**
 * Mirrors the config's teams into the store at start, so users and keys made through the admin API
 * can belong to them. Config stays their source: fields are brought in line on every start.
 */
export async function seedStoreFromConfig(store: RecordStore, config: Config): Promise<void> {
  const names = Object.keys(config.teams);
  if (names.length === 0) return;
  const orgId = await defaultOrganizationId(store);
  const stored = new Map((await store.teams.list()).map((team) => [team.name, team]));
  for (const name of names) {
    const team = config.teams[name];
    if (!team) continue;
    const fields = { plan: team.plan ?? null, models: team.models ?? null, endpoints: team.endpoints ?? null };
    const existing = stored.get(name);
    try {
      if (!existing) await store.teams.create({ name, orgId, plan: team.plan, models: team.models, endpoints: team.endpoints, metadata: {} });
      else if (!sameFields(existing, fields)) await store.teams.update(existing.id, fields);
    } catch (error) {
      if (!(error instanceof RecordConflictError)) throw error; // another instance seeded it
    }
  }
}

function sameFields(team: { plan?: string; models?: string[]; endpoints?: string[] }, wanted: { plan: string | null; models: string[] | null; endpoints: string[] | null }): boolean {
  return JSON.stringify([team.plan ?? null, team.models ?? null, team.endpoints ?? null]) === JSON.stringify([wanted.plan, wanted.models, wanted.endpoints]);
}
