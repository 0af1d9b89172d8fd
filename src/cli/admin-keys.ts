import type { z } from 'zod';
import { keyOut, keyWithSecretOut, listOf } from '../admin/schemas.js';
import { CliError } from './admin-client.js';
import {
  expectBody,
  findByNameOrId,
  formatTable,
  listOption,
  listTeams,
  listUsers,
  printJson,
  requireId,
  requireOption,
  secondsOption,
  shortTime,
  type AdminCall,
  type TeamJson,
  type UserJson,
} from './admin-format.js';

type KeyJson = z.infer<typeof keyOut>;
type KeyWithSecret = z.infer<typeof keyWithSecretOut>;

/** `keys create`: the owner may be named by name or id; the secret is printed exactly once. */
export async function createKey(call: AdminCall): Promise<void> {
  const { values, client } = call;
  const name = requireOption(values, 'name');
  if ((values.team === undefined) === (values.user === undefined)) throw new CliError('name the owner with exactly one of --team <name|id> or --user <name|id>');
  const owner =
    values.team !== undefined
      ? { type: 'team' as const, record: findByNameOrId(await listTeams(client), values.team, 'team') }
      : { type: 'user' as const, record: findByNameOrId(await listUsers(client), values.user as string, 'user') };
  const body = {
    name,
    owner: { type: owner.type, id: owner.record.id },
    plan: values.plan,
    models: listOption(values.models),
    expires_in_s: secondsOption('expires-in', values['expires-in'], 1),
  };
  const created = expectBody(await client.call('POST', '/keys', body), keyWithSecretOut);
  if (values.json) return printJson(call, created);
  call.print(`Created key '${created.name}' for ${owner.type} ${owner.record.name}.\n`);
  printKeyFacts(call, created);
  printSecret(call, created);
}

/** `keys list`: a table of what each key is, never what it unlocks with. */
export async function listKeys(call: AdminCall): Promise<void> {
  const { values, client } = call;
  if (call.args.length > 0) throw new CliError(`unexpected argument '${call.args[0]}'`);
  const [keys, teams, users] = await Promise.all([
    client.call('GET', '/keys').then((response) => expectBody(response, listOf(keyOut)).data),
    listTeams(client),
    listUsers(client),
  ]);
  let shown = keys;
  if (values.team !== undefined) {
    // A team's keys include those of its users: that is what "the team's keys" means to people.
    const team = findByNameOrId(teams, values.team, 'team');
    const members = new Set(users.filter((user) => user.team_id === team.id).map((user) => user.id));
    shown = keys.filter((key) => (key.owner.type === 'team' ? key.owner.id === team.id : members.has(key.owner.id)));
  }
  if (values.json) return printJson(call, { data: shown });
  if (shown.length === 0) return call.print('No keys.\n');
  const rows = shown.map((key) => [key.id, key.name, key.display_prefix, ownerLabel(key, teams, users), key.plan ?? '', statusOf(key), shortTime(key.expires_at) || 'never']);
  call.print(formatTable(['ID', 'NAME', 'PREFIX', 'OWNER', 'PLAN', 'STATUS', 'EXPIRES'], rows));
}

/** `keys revoke <id>`: refused by the gateway from the next request on. */
export async function revokeKey(call: AdminCall): Promise<void> {
  const id = requireId(call, 'key');
  const key = expectBody(await call.client.call('POST', `/keys/${encodeURIComponent(id)}/revoke`), keyOut);
  if (call.values.json) return printJson(call, key);
  call.print(`Revoked key ${key.id} ('${key.name}', ${key.display_prefix}).\n`);
}

/** `keys rotate <id>`: a new secret now; the old one keeps working for the grace period. */
export async function rotateKey(call: AdminCall): Promise<void> {
  const id = requireId(call, 'key');
  const grace = secondsOption('grace', call.values.grace, 0);
  const body = grace === undefined ? {} : { grace_s: grace };
  const rotated = expectBody(await call.client.call('POST', `/keys/${encodeURIComponent(id)}/rotate`, body), keyWithSecretOut);
  if (call.values.json) return printJson(call, rotated);
  const old = await call.client.call('GET', `/keys/${encodeURIComponent(id)}`);
  const oldKey = old.status === 200 ? keyOut.safeParse(old.body) : undefined;
  const until = oldKey?.success ? shortTime(oldKey.data.expires_at) : '';
  call.print(`Rotated key ${id}; the new key is ${rotated.id}.\n`);
  call.print(until ? `The old key keeps working until ${until}.\n` : 'The old key keeps working for the grace period.\n');
  printKeyFacts(call, rotated);
  printSecret(call, rotated);
}

function printKeyFacts(call: AdminCall, key: KeyJson): void {
  call.print(`  id:       ${key.id}\n  prefix:   ${key.display_prefix}\n  plan:     ${key.plan ?? '-'}\n  expires:  ${shortTime(key.expires_at) || 'never'}\n`);
}

function printSecret(call: AdminCall, key: KeyWithSecret): void {
  call.print(`\nSecret (shown once; store it now, it cannot be shown again):\n\n  ${key.key}\n\n`);
}

function ownerLabel(key: KeyJson, teams: TeamJson[], users: UserJson[]): string {
  const list: Array<{ id: string; name: string }> = key.owner.type === 'team' ? teams : users;
  return `${key.owner.type}:${list.find((item) => item.id === key.owner.id)?.name ?? key.owner.id}`;
}

/** An enabled key past its expiry no longer works; say so instead of "enabled". */
function statusOf(key: KeyJson): string {
  if (key.status === 'enabled' && key.expires_at !== null && Date.parse(key.expires_at) <= Date.now()) return 'expired';
  return key.status;
}
