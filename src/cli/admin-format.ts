import { z } from 'zod';
import { listOf, teamOut, userOut } from '../admin/schemas.js';
import { CliError, type AdminClient, type AdminResponse } from './admin-client.js';

/** Options every admin subcommand may read; parsed by main.ts with the admin option table. */
export interface AdminValues {
  config?: string;
  url?: string;
  'admin-key'?: string;
  json?: boolean;
  name?: string;
  team?: string;
  user?: string;
  plan?: string;
  models?: string;
  role?: string;
  'expires-in'?: string;
  grace?: string;
}

/** What a subcommand gets: the client, its positional arguments after the action, and its options. */
export interface AdminCall {
  client: AdminClient;
  args: string[];
  values: AdminValues;
  print(text: string): void;
}

const errorBody = z.object({ error: z.object({ message: z.string() }) });

/**
 * Turns an error answer into a one-line CliError and validates a success answer against the admin
 * API's own response schema, so a version mismatch is a clear message rather than `undefined`.
 */
export function expectBody<T extends z.ZodType>(response: AdminResponse, schema: T): z.infer<T> {
  failUnlessOk(response);
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) throw new CliError(`unexpected answer from the admin API (HTTP ${response.status}); is the gateway the same version as this CLI?`);
  return parsed.data;
}

/** Throws the server's own message for any 4xx/5xx answer. */
export function failUnlessOk(response: AdminResponse): void {
  if (response.status < 400) return;
  const parsed = errorBody.safeParse(response.body);
  const message = parsed.success ? parsed.data.error.message : `the admin API answered HTTP ${response.status}`;
  const hint = response.status === 401 ? ' Check BB_ADMIN_KEY (or --admin-key).' : '';
  throw new CliError(`${message}${hint}`);
}

/** `--json`: the raw answer, pretty-printed, for scripts and jq. */
export function printJson(call: AdminCall, body: unknown): void {
  call.print(`${JSON.stringify(body, null, 2)}\n`);
}

/** A plain left-aligned table; `-` stands in for empty cells so columns stay readable. */
export function formatTable(headers: string[], rows: string[][]): string {
  const cells = rows.map((row) => row.map((cell) => (cell === '' ? '-' : cell)));
  const widths = headers.map((header, index) => Math.max(header.length, ...cells.map((row) => (row[index] ?? '').length)));
  const line = (row: string[]) => row.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join('  ').trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
}

/** `a, b,,c` -> `['a', 'b', 'c']`. */
export function listOption(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) throw new CliError('--models needs at least one model name, e.g. --models demo,fast');
  return items;
}

/** Whole seconds, checked here so the user sees the option's name, not a JSON field's. */
export function secondsOption(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(seconds) || seconds < min) throw new CliError(`--${name} must be a whole number of seconds${min > 0 ? ' above 0' : ''}`);
  return seconds;
}

export function requireOption(values: AdminValues, name: 'name'): string {
  const value = values[name];
  if (value === undefined || value.trim() === '') throw new CliError(`--${name} <value> is required`);
  return value;
}

/** Exactly one positional id after the action, e.g. `keys revoke <id>`. */
export function requireId(call: AdminCall, what: string): string {
  const [id, ...rest] = call.args;
  if (id === undefined) throw new CliError(`name the ${what}: <id>`);
  if (rest.length > 0) throw new CliError(`unexpected argument '${rest[0]}'`);
  return id;
}

/** Times as `2025-06-01 12:00Z`: minutes are enough to read an expiry at a glance. */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : `${date.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

export type TeamJson = z.infer<typeof teamOut>;
export type UserJson = z.infer<typeof userOut>;

export async function listTeams(client: AdminClient): Promise<TeamJson[]> {
  return expectBody(await client.call('GET', '/teams'), listOf(teamOut)).data;
}

export async function listUsers(client: AdminClient): Promise<UserJson[]> {
  return expectBody(await client.call('GET', '/users'), listOf(userOut)).data;
}

/** People type names; the API wants ids. An exact id wins over a name. */
export function findByNameOrId<T extends { id: string; name: string }>(items: T[], wanted: string, kind: string): T {
  const found = items.find((item) => item.id === wanted) ?? items.find((item) => item.name === wanted);
  if (!found) throw new CliError(`No ${kind} with name or id '${wanted}'.`);
  return found;
}
