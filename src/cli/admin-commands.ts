import { z } from 'zod';
import { listOf, planOut, teamOut, userOut } from '../admin/schemas.js';
import { CliError, reportCliFailure, localAdminClient, remoteAdminClient, type AdminClient } from './admin-client.js';
import {
  expectBody,
  failUnlessOk,
  findByNameOrId,
  formatTable,
  listOption,
  listTeams,
  listUsers,
  printJson,
  requireId,
  requireOption,
  type AdminCall,
  type AdminValues,
} from './admin-format.js';
import { createKey, listKeys, revokeKey, rotateKey } from './admin-keys.js';

/** Options only admin commands take; main.ts merges them into its own parseArgs table. */
export const ADMIN_OPTIONS = {
  url: { type: 'string' },
  'admin-key': { type: 'string' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  team: { type: 'string' },
  user: { type: 'string' },
  plan: { type: 'string' },
  models: { type: 'string' },
  role: { type: 'string' },
  'expires-in': { type: 'string' },
  grace: { type: 'string' },
} as const;

/** The USAGE lines for admin commands, kept next to the commands they describe. */
export const ADMIN_USAGE = `Admin commands (against the local store with --config, or a running gateway with --url):
  keys create --name <n> (--team <name|id> | --user <name|id>)
              [--plan <p>] [--models a,b] [--expires-in <s>]
                                         make a key; its secret is printed once
  keys list [--team <name|id>]           id, name, prefix, owner, plan, status, expiry (never secrets)
  keys revoke <id>                       refuse the key from now on
  keys rotate <id> [--grace <s>]         new secret now; the old one works for the grace period
  teams list | create --name <n> [--plan <p>] [--models a,b] | delete <name|id>
  users list | create --name <n> [--team <name|id>] [--role <r>] [--plan <p>] [--models a,b]
  plans list

Admin options:
  -c, --config <file>   act on the record store named in this config (no gateway needed)
  --url <url>           act through a running gateway's /admin/v1, e.g. http://127.0.0.1:8080
  --admin-key <key>     admin credential for --url; prefer the BB_ADMIN_KEY environment variable
                        (keeps the key out of shell history and process lists)
  --json                print the API's JSON instead of a table
`;

type Run = (call: AdminCall) => Promise<void>;
interface Action {
  run: Run;
  /** Options this action reads besides config, url, admin-key and json. */
  options: Array<keyof AdminValues>;
}

const COMMANDS: Record<string, Record<string, Action>> = {
  keys: {
    create: { run: createKey, options: ['name', 'team', 'user', 'plan', 'models', 'expires-in'] },
    list: { run: listKeys, options: ['team'] },
    revoke: { run: revokeKey, options: [] },
    rotate: { run: rotateKey, options: ['grace'] },
  },
  teams: {
    list: { run: listTeamsCommand, options: [] },
    create: { run: createTeam, options: ['name', 'plan', 'models'] },
    delete: { run: deleteTeam, options: [] },
  },
  users: {
    list: { run: listUsersCommand, options: [] },
    create: { run: createUser, options: ['name', 'team', 'role', 'plan', 'models'] },
  },
  plans: {
    list: { run: listPlans, options: [] },
  },
};

const ALWAYS: ReadonlySet<string> = new Set(['config', 'url', 'admin-key', 'json', 'help']);

/** Whether main.ts should hand the command line to runAdminCommand. */
export function isAdminCommand(command: string): boolean {
  return Object.hasOwn(COMMANDS, command);
}

/**
 * Runs `<resource> <action> [args]` and returns the exit code. Every failure is one line on
 * stderr, prefixed with the command, and exit code 1: scripts can test `$?` and humans read one line.
 */
export async function runAdminCommand(positionals: string[], values: AdminValues & Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [resource = '', actionName, ...args] = positionals;
  const label = actionName === undefined ? `breakerbox ${resource}` : `breakerbox ${resource} ${actionName}`;
  let client: AdminClient | undefined;
  try {
    const actions = COMMANDS[resource] ?? {};
    const action = actionName === undefined ? undefined : actions[actionName];
    if (!action) {
      const known = Object.keys(actions).join(', ');
      throw new CliError(actionName === undefined ? `name an action: ${known}` : `unknown action '${actionName}'; use one of: ${known}`);
    }
    const stray = Object.keys(values).find((option) => values[option] !== undefined && !ALWAYS.has(option) && !action.options.includes(option as keyof AdminValues));
    if (stray !== undefined) throw new CliError(`--${stray} does not apply here`);
    client = openClient(values, env);
    await action.run({ client, args, values, print: (text) => void process.stdout.write(text) });
    return 0;
  } catch (error) {
    return reportCliFailure(label, error);
  } finally {
    await client?.close();
  }
}

/** Exactly one target: the local store (--config) or a running gateway (--url). */
function openClient(values: AdminValues, env: NodeJS.ProcessEnv): AdminClient {
  if ((values.config === undefined) === (values.url === undefined)) {
    throw new CliError('give exactly one of --config <file> (local record store) or --url <gateway url> (running gateway)');
  }
  if (values.config !== undefined) {
    if (values['admin-key'] !== undefined) throw new CliError('--admin-key is only used with --url');
    return localAdminClient(values.config);
  }
  const key = values['admin-key'] ?? env.BB_ADMIN_KEY;
  if (key === undefined || key.trim() === '') throw new CliError('--url needs an admin key: set BB_ADMIN_KEY (or pass --admin-key)');
  return remoteAdminClient(values.url as string, key.trim());
}

function noArgs(call: AdminCall): void {
  if (call.args.length > 0) throw new CliError(`unexpected argument '${call.args[0]}'`);
}

async function listTeamsCommand(call: AdminCall): Promise<void> {
  noArgs(call);
  const teams = await listTeams(call.client);
  if (call.values.json) return printJson(call, { data: teams });
  if (teams.length === 0) return call.print('No teams.\n');
  const rows = teams.map((team) => [team.id, team.name, team.plan ?? '', team.models?.join(',') ?? '', team.managed_by_config ? 'config' : 'api']);
  call.print(formatTable(['ID', 'NAME', 'PLAN', 'MODELS', 'SOURCE'], rows));
}

async function createTeam(call: AdminCall): Promise<void> {
  noArgs(call);
  const body = { name: requireOption(call.values, 'name'), plan: call.values.plan, models: listOption(call.values.models) };
  const team = expectBody(await call.client.call('POST', '/teams', body), teamOut);
  if (call.values.json) return printJson(call, team);
  call.print(`Created team '${team.name}' (id ${team.id}).\n`);
}

async function deleteTeam(call: AdminCall): Promise<void> {
  const wanted = requireId(call, 'team');
  const team = findByNameOrId(await listTeams(call.client), wanted, 'team');
  failUnlessOk(await call.client.call('DELETE', `/teams/${encodeURIComponent(team.id)}`));
  if (call.values.json) return printJson(call, { id: team.id, deleted: true });
  call.print(`Deleted team '${team.name}' (id ${team.id}).\n`);
}

async function listUsersCommand(call: AdminCall): Promise<void> {
  noArgs(call);
  const [users, teams] = await Promise.all([listUsers(call.client), listTeams(call.client)]);
  if (call.values.json) return printJson(call, { data: users });
  if (users.length === 0) return call.print('No users.\n');
  const teamName = (id: string | null) => (id === null ? '' : (teams.find((team) => team.id === id)?.name ?? id));
  const rows = users.map((user) => [user.id, user.name, teamName(user.team_id), user.role, user.plan ?? '']);
  call.print(formatTable(['ID', 'NAME', 'TEAM', 'ROLE', 'PLAN'], rows));
}

async function createUser(call: AdminCall): Promise<void> {
  noArgs(call);
  const { values, client } = call;
  const team = values.team === undefined ? undefined : findByNameOrId(await listTeams(client), values.team, 'team');
  const body = { name: requireOption(values, 'name'), team_id: team?.id, role: values.role, plan: values.plan, models: listOption(values.models) };
  const user = expectBody(await client.call('POST', '/users', body), userOut);
  if (values.json) return printJson(call, user);
  call.print(`Created user '${user.name}' (id ${user.id}, role ${user.role}${team ? `, team ${team.name}` : ''}).\n`);
}

const planModels = z.object({ models: z.array(z.string()).optional() });

async function listPlans(call: AdminCall): Promise<void> {
  noArgs(call);
  const plans = expectBody(await call.client.call('GET', '/plans'), listOf(planOut)).data;
  if (call.values.json) return printJson(call, { data: plans });
  if (plans.length === 0) return call.print('No plans.\n');
  const rows = plans.map((plan) => [plan.name, plan.source, planModels.safeParse(plan.spec).data?.models?.join(',') ?? 'all']);
  call.print(formatTable(['NAME', 'SOURCE', 'MODELS'], rows));
}
