import { GatewayError } from '../../core/errors.js';

/**
 * JSON Schema (what OpenAI clients send for tools and structured output) to Gemini's `Schema`, a
 * subset of OpenAPI 3.0. What maps keeps its meaning; what cannot (allOf, not, recursive $ref,
 * numeric enums...) is refused with a 400 naming the keyword, rather than silently loosened.
 */

type Json = Record<string, unknown>;

const TYPE_NAMES: Readonly<Record<string, string>> = {
  string: 'STRING',
  number: 'NUMBER',
  integer: 'INTEGER',
  boolean: 'BOOLEAN',
  array: 'ARRAY',
  object: 'OBJECT',
};

/** String formats Gemini accepts per type; others (email, uri...) are annotations and are dropped. */
const FORMATS: Readonly<Record<string, readonly string[]>> = {
  STRING: ['enum', 'date-time'],
  NUMBER: ['float', 'double'],
  INTEGER: ['int32', 'int64'],
};

/** Keywords Gemini's Schema has under the same name and meaning. */
const COPIED = [
  'title',
  'description',
  'pattern',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'required',
  'propertyOrdering',
  'default',
  'example',
] as const;

/**
 * Keywords dropped without changing what the model generates: annotations, and the
 * `additionalProperties: false` that strict OpenAI schemas must carry (Gemini never adds keys).
 */
const DROPPED = new Set(['$schema', '$id', '$comment', '$defs', 'definitions', 'examples', 'readOnly', 'writeOnly', 'deprecated', 'strict']);

const HANDLED = new Set<string>([...COPIED, 'format', 'type', 'nullable', 'enum', 'const', 'properties', 'items', 'anyOf', 'oneOf', '$ref', 'additionalProperties']);

class Converter {
  private readonly refStack: string[] = [];

  constructor(
    private readonly root: Json,
    private readonly param: string,
  ) {}

  convert(schema: unknown, path: string): Json {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) this.fail(path, 'is not a schema object');
    const source = schema as Json;
    if (typeof source.$ref === 'string') return this.resolveRef(source, path);
    const out: Json = {};
    for (const key of Object.keys(source)) {
      if (!HANDLED.has(key) && !DROPPED.has(key)) this.fail(`${path}/${key}`, `uses '${key}', which Gemini's schema cannot express`);
    }
    if (source.additionalProperties !== undefined && source.additionalProperties !== false) {
      this.fail(`${path}/additionalProperties`, "uses 'additionalProperties' (only false is accepted)");
    }
    for (const key of COPIED) if (source[key] !== undefined) out[key] = source[key];
    this.convertType(source, out, path);
    this.convertEnum(source, out, path);
    if (source.properties !== undefined) {
      if (typeof source.properties !== 'object' || source.properties === null) this.fail(`${path}/properties`, 'is not an object');
      const properties: Json = {};
      for (const [name, value] of Object.entries(source.properties as Json)) properties[name] = this.convert(value, `${path}/properties/${name}`);
      out.properties = properties;
      out.type ??= 'OBJECT';
    }
    if (source.items !== undefined) {
      out.items = this.convert(source.items, `${path}/items`);
      out.type ??= 'ARRAY';
    }
    const variants = source.anyOf ?? source.oneOf;
    if (variants !== undefined) this.convertVariants(variants, out, `${path}/${source.anyOf !== undefined ? 'anyOf' : 'oneOf'}`);
    if (source.nullable === true) out.nullable = true;
    if (typeof source.format === 'string' && FORMATS[String(out.type)]?.includes(source.format)) out.format = source.format;
    return out;
  }

  private convertType(source: Json, out: Json, path: string): void {
    const type = source.type;
    if (type === undefined) return;
    const names = Array.isArray(type) ? type : [type];
    const nonNull = names.filter((name) => name !== 'null');
    if (nonNull.length !== 1 || typeof nonNull[0] !== 'string' || !TYPE_NAMES[nonNull[0]]) {
      this.fail(`${path}/type`, `has type ${JSON.stringify(type)}; Gemini takes exactly one type, optionally nullable`);
    }
    out.type = TYPE_NAMES[nonNull[0]];
    if (nonNull.length < names.length) out.nullable = true;
  }

  private convertEnum(source: Json, out: Json, path: string): void {
    const values = source.enum !== undefined ? source.enum : source.const !== undefined ? [source.const] : undefined;
    if (values === undefined) return;
    if (!Array.isArray(values)) this.fail(`${path}/enum`, 'is not an array');
    const strings = values.filter((value) => value !== null);
    if (!strings.every((value) => typeof value === 'string')) {
      this.fail(`${path}/${source.enum !== undefined ? 'enum' : 'const'}`, 'lists non-string values; Gemini enums hold strings only');
    }
    out.enum = strings;
    out.type ??= 'STRING';
    if (strings.length < values.length) out.nullable = true;
  }

  /** anyOf (and oneOf, taken to mean the same: generation needs no exclusivity); a null member becomes nullable. */
  private convertVariants(variants: unknown, out: Json, path: string): void {
    if (!Array.isArray(variants) || variants.length === 0) this.fail(path, 'is not a non-empty array');
    const kept: Json[] = [];
    variants.forEach((variant, index) => {
      if (isObject(variant) && variant.type === 'null' && Object.keys(variant).length === 1) out.nullable = true;
      else kept.push(this.convert(variant, `${path}/${index}`));
    });
    if (kept.length === 1) {
      const only = kept[0] as Json;
      for (const [key, value] of Object.entries(only)) if (out[key] === undefined) out[key] = value;
    } else if (kept.length > 1) {
      out.anyOf = kept;
    }
  }

  /** Inlines a local `#/$defs/...` or `#/definitions/...` reference; recursion cannot be inlined. */
  private resolveRef(source: Json, path: string): Json {
    const ref = source.$ref as string;
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref);
    const defs = match ? this.root[match[1] as string] : undefined;
    const target = match && isObject(defs) ? defs[decodeURIComponent(match[2] as string)] : undefined;
    if (target === undefined) this.fail(`${path}/$ref`, `refers to ${JSON.stringify(ref)}, which is not a local definition`);
    if (this.refStack.includes(ref)) this.fail(`${path}/$ref`, `refers to ${JSON.stringify(ref)} recursively, which Gemini's schema cannot express`);
    this.refStack.push(ref);
    const { $ref: _ref, ...siblings } = source;
    const resolved = this.convert(target, ref.slice(1));
    this.refStack.pop();
    const overrides = Object.keys(siblings).length > 0 ? this.convert(siblings, path) : {};
    return { ...resolved, ...overrides };
  }

  private fail(path: string, problem: string): never {
    throw new GatewayError('BB_UNSUPPORTED_PARAMETER', `The schema at '${path || '/'}' ${problem}; this model's provider (Gemini) cannot take it.`, {
      param: this.param,
    });
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Converts a JSON Schema to Gemini's Schema. `param` names the request field for the 400 when
 * something cannot be converted (e.g. `tools[0].function.parameters`).
 */
export function toGeminiSchema(schema: Record<string, unknown>, param: string): Json {
  return new Converter(schema, param).convert(schema, '');
}
