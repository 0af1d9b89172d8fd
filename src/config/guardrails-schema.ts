import { z } from 'zod';

/**
 * Guardrails (docs/guardrails.md): what happens to personal data and secrets on the way to a
 * provider, depending on whether the provider is inside the trust boundary (`providers.<name>.trust`),
 * what is done about prompt injection, and what model output may not contain.
 */

export const INPUT_ACTIONS = ['allow', 'block', 'mask', 'tokenize', 'reroute'] as const;
export type InputAction = (typeof INPUT_ACTIONS)[number];

const inputAction = z.enum(INPUT_ACTIONS);

/** One action for both trust levels, or one per level. */
const perTrust = z.union([
  inputAction.transform((action) => ({ internal: action, external: action })),
  z.strictObject({
    internal: inputAction.default('allow').describe('Toward providers marked trust: internal.'),
    external: inputAction.default('allow').describe('Toward providers marked trust: external (the default trust).'),
  }),
]);

const customEntitySchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'lower-case letters, digits and _').describe('The entity name used under `entities` and in records.'),
  pattern: z.string().min(1).describe('A regular expression, matched against the normalized text.'),
  validator: z.enum(['none', 'luhn', 'iban']).default('none').describe('An extra check on each match.'),
});

const outputAction = z.enum(['redact', 'terminate']);

export const guardrailsSchema = z
  .strictObject({
    entities: z
      .record(z.string().min(1), perTrust)
      .default({})
      .describe(
        'Per entity (email, phone, ssn, payment_card, iban, ip_address, secret, or a custom name): allow, block (400 naming the entity), mask ([EMAIL]), tokenize (a placeholder upstream, the value restored in the answer) or reroute (serve from reroute_model). E.g. ssn: { external: mask }.',
      ),
    custom_entities: z.array(customEntitySchema).default([]).describe('Extra entities found by regex.'),
    reroute_model: z.string().min(1).optional().describe('The model (group, on internal providers) a request is served from when an entity says reroute.'),
    injection: z
      .strictObject({
        action: z.enum(['off', 'flag', 'block', 'strip']).default('off').describe('flag: recorded only; block: 400; strip: the suspicious phrases and invisible characters are removed.'),
        threshold: z.number().min(0).max(1).default(0.5).describe('Score from which a message counts as an injection attempt.'),
        roles: z
          .array(z.enum(['system', 'user', 'assistant', 'tool']))
          .min(1)
          .default(['user', 'tool'])
          .describe('Messages checked: user text, and tool results (documents pasted in through tools).'),
      })
      .prefault({})
      .describe('Prompt-injection heuristics: probabilistic; access rules and tool permissions are the strong controls.'),
    output: z
      .strictObject({
        secrets: z.enum(['off', 'redact', 'terminate']).default('off').describe('Secrets (keys, tokens, private keys) in model output: redacted, or the answer ends with an error.'),
        entities: z.record(z.string().min(1), outputAction).default({}).describe('Personal data in model output, per entity: redact or terminate.'),
      })
      .prefault({})
      .describe('Checks on what the model returns, streams included (only the text that could still be a match is held back).'),
    deny_patterns: z
      .array(
        z.strictObject({
          name: z.string().min(1).describe('Named in the error and the record.'),
          pattern: z.string().min(1).describe('A regular expression (case-insensitive).'),
        }),
      )
      .default([])
      .describe('Requests whose text matches are refused with 400.'),
    allow_patterns: z
      .array(z.string().min(1))
      .default([])
      .describe('Values that are never treated as personal data or secrets when the whole found value matches (case-insensitive), e.g. your own support address.'),
    webhooks: z
      .array(
        z.strictObject({
          name: z.string().min(1).describe('Named in errors and records.'),
          url: z.url().describe('Receives POST { request_id, endpoint, model, principal, messages: [{ role, text }] } and answers { action: allow | block, reason? }.'),
          timeout_ms: z.number().int().positive().max(30_000).default(1000).describe('Longest wait for the answer.'),
          on_failure: z.enum(['open', 'closed']).default('closed').describe('A timeout, a non-2xx answer or a malformed one: open lets the request through (recorded), closed refuses it with 503.'),
          headers: z.record(z.string(), z.string()).optional().describe('Sent with every call (values may use ${env:NAME}).'),
        }),
      )
      .default([])
      .describe('Custom guards run by your own service, called for every chat and embeddings request after the built-in input guards.'),
  })
  .prefault({})
  .describe('PII and secret egress rules, prompt-injection defence and output guards (docs/guardrails.md).');

export type GuardrailsConfig = z.output<typeof guardrailsSchema>;
