import { z } from 'zod';

/**
 * Config for the usage ledger (src/usage/ledger): one row per settled request in the record
 * store, written through a local durable outbox so a crash or a store outage loses nothing the
 * client saw complete. Prompt and response bodies are not recorded.
 */

const LEDGER_ENDPOINTS = ['chat', 'embeddings', 'models', 'health', 'admin', 'other'] as const;

export const ledgerSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Record every settled request in the record store (table `requests`).'),
    outbox_path: z
      .string()
      .min(1)
      .optional()
      .describe(
        'SQLite file of the local outbox every record is written to before its response completes. Default: next to an SQLite store file (data/breakerbox.db -> data/breakerbox.ledger-outbox.db), `:memory:` with an in-memory store, data/ledger-outbox.db (data/ledger-outbox-<schema>.db) with PostgreSQL. `:memory:` is not crash-safe (tests only). One process per file.',
      ),
    flush_ms: z
      .number()
      .int()
      .min(10)
      .max(60_000)
      .default(200)
      .describe('How often waiting records move from the outbox to the record store (sooner when `batch_size` are waiting).'),
    batch_size: z.number().int().min(1).max(10_000).default(500).describe('Most records written to the record store in one transaction.'),
    retry_max_ms: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(10_000)
      .describe('While the record store is unreachable, retries back off up to this interval; records wait in the outbox.'),
    close_timeout_ms: z
      .number()
      .int()
      .nonnegative()
      .max(600_000)
      .default(5_000)
      .describe('On shutdown, how long to keep shipping what the outbox holds; the rest ships at the next start.'),
    retention_days: z
      .number()
      .int()
      .nonnegative()
      .default(90)
      .describe('Rows older than this many days are deleted (checked at start and hourly); 0 keeps them forever.'),
    exclude_endpoints: z
      .array(z.enum(LEDGER_ENDPOINTS))
      .default([])
      .describe('Endpoints whose requests are not recorded, e.g. [admin] (the audit log covers admin actions). Health probes are never recorded.'),
    bodies: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Record prompt and answer text (personal data and secrets masked first). Off by default.'),
        teams: z.array(z.string().min(1)).default([]).describe('Only requests of these teams; every team when empty.'),
        endpoints: z.array(z.enum(['chat', 'embeddings'])).min(1).default(['chat']).describe('Endpoints whose bodies are recorded.'),
        max_chars: z.number().int().positive().max(1_000_000).default(32_000).describe('Longest prompt or answer text kept; the rest is cut.'),
        retention_days: z.number().int().nonnegative().default(7).describe('Bodies are cleared from rows older than this (the rows stay); 0 keeps them as long as the rows.'),
      })
      .prefault({})
      .describe('Prompt and answer text in the ledger, redacted, per team and endpoint, with their own retention.'),
  })
  .prefault({})
  .describe('The usage ledger: one durable row per request (and its attempts), with retention. See docs/ledger.md.');

export type LedgerConfig = z.output<typeof ledgerSchema>;
