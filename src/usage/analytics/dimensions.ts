import type { GroupColumn } from './types.js';

/** What a query may group by: each dimension reads one or two ledger columns. */
export interface Dimension {
  /** Ledger columns grouped on, with the field name each gets in an answer's `group`. */
  columns: ReadonlyArray<readonly [column: GroupColumn, label: string]>;
  /** The column an equality filter (`?model=demo`) compares. */
  filter: GroupColumn;
  description: string;
}

export const DIMENSIONS = {
  key: { columns: [['key_prefix', 'key'], ['key_name', 'key_name']], filter: 'key_prefix', description: "the API key's display prefix (and its name)" },
  user: { columns: [['user_name', 'user']], filter: 'user_name', description: 'the calling user' },
  team: { columns: [['team_name', 'team']], filter: 'team_name', description: "the caller's team" },
  customer: { columns: [['customer', 'customer']], filter: 'customer', description: 'the end customer the client acts for' },
  model: { columns: [['requested_model', 'model']], filter: 'requested_model', description: 'the public model name the client asked for' },
  provider: { columns: [['provider', 'provider']], filter: 'provider', description: 'the provider that served' },
  served_model: { columns: [['served_model', 'served_model']], filter: 'served_model', description: "the provider's model that served" },
  route: { columns: [['endpoint', 'route']], filter: 'endpoint', description: 'the endpoint (chat, embeddings, ...)' },
  template: { columns: [['template_id', 'template']], filter: 'template_id', description: 'the prompt template id, all versions together' },
  template_version: {
    columns: [['template_id', 'template'], ['template_version', 'template_version']],
    filter: 'template_version',
    description: 'the prompt template id and version',
  },
  conversation: { columns: [['conversation_id', 'conversation']], filter: 'conversation_id', description: 'the conversation id (raw rows only)' },
} as const satisfies Record<string, Dimension>;

export type DimensionName = keyof typeof DIMENSIONS;
export const DIMENSION_NAMES = Object.keys(DIMENSIONS) as DimensionName[];

export function isDimension(name: string): name is DimensionName {
  return Object.hasOwn(DIMENSIONS, name);
}

/** The distinct columns of some dimensions, in order, with the label each shows as. */
export function groupColumns(dims: readonly DimensionName[]): Array<readonly [GroupColumn, string]> {
  const out = new Map<GroupColumn, string>();
  for (const dim of dims) {
    for (const [column, label] of DIMENSIONS[dim].columns) if (!out.has(column)) out.set(column, label);
  }
  return [...out.entries()];
}
