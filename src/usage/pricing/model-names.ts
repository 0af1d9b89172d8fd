/**
 * Model-name helpers for the price catalog: upstream model names carry dates, Bedrock region
 * prefixes and version suffixes that price lists do not, so the catalog strips them step by step.
 */

/** A release date at the end of a name: `-2024-07-18`, `-20240620` or Vertex's `@20240620`. */
const DATE_SUFFIX = /[-@](?:\d{4}-\d{2}-\d{2}|20\d{6})$/;

/**
 * The name without its release date (`gpt-4o-mini-2024-07-18` -> `gpt-4o-mini`), or undefined
 * when there is none. Snapshots are normally priced as their family, so this is the fallback.
 */
export function undatedModelName(model: string): string | undefined {
  const base = model.replace(DATE_SUFFIX, '');
  return base !== model && base.length > 0 ? base : undefined;
}

/** Bedrock's version tail: `-v1:0`, `-v2`, `-1:0` (openai.gpt-oss-120b-1:0) or `:0`. */
const BEDROCK_VERSION_SUFFIX = /(?:-v\d+(?::\d+)?|-\d+:\d+|:\d+)$/;

/** A Bedrock model id split into its vendor and the vendor's own model name. */
export interface BedrockModelRef {
  vendor: string;
  model: string;
}

/**
 * Splits `us.anthropic.claude-3-5-sonnet-20240620-v1:0` (or an inference-profile ARN) into
 * `anthropic` / `claude-3-5-sonnet-20240620`, so a model Bedrock's own price list lacks can still
 * be priced as its vendor prices it.
 */
export function bedrockModelRef(modelId: string): BedrockModelRef | undefined {
  const id = modelId.slice(modelId.lastIndexOf('/') + 1);
  const parts = id.split('.');
  // region.vendor.model (cross-region inference profiles) or vendor.model
  if (parts.length >= 3) parts.shift();
  if (parts.length < 2) return undefined;
  const [vendor, ...rest] = parts;
  const model = rest.join('.').replace(BEDROCK_VERSION_SUFFIX, '');
  return vendor && model ? { vendor, model } : undefined;
}
