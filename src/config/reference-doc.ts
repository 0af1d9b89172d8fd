import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * Builds the editor JSON Schema (schema/breakerbox.schema.json) from the zod config schema and
 * renders the key reference in docs/configuration.md from it. Pure functions, no I/O:
 * scripts/generate-schema.ts writes the files and src/config/schema.test.ts checks they are current.
 */

/** A JSON Schema node, as far as this module reads it. */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  [keyword: string]: unknown;
}

export const SCHEMA_ID = 'urn:breakerbox:config';
export const SCHEMA_PATH = 'schema/breakerbox.schema.json';
export const CONFIGURATION_DOC_PATH = 'docs/configuration.md';
export const REFERENCE_BEGIN = '<!-- BEGIN GENERATED REFERENCE -->';
export const REFERENCE_END = '<!-- END GENERATED REFERENCE -->';

/**
 * The config's JSON Schema for editors. Draft-07, because that is what the VS Code YAML extension
 * (yaml-language-server) and most editors validate fully. It describes the *input*: what may be
 * written in a config file, so keys with defaults are optional and sizes may be strings.
 */
export function buildConfigJsonSchema(): JsonSchema {
  const generated = z.toJSONSchema(configSchema, {
    target: 'draft-07',
    io: 'input',
    // Unrepresentable types throw, so a schema change the JSON Schema cannot express is noticed.
    unrepresentable: 'throw',
    override: ({ zodSchema, jsonSchema }) => {
      const node = jsonSchema as JsonSchema;
      // zod drops defaults of transforming schemas in input mode, since a default is an output
      // value. Keep it when it is also a valid input (max_body_bytes: 20971520 is both).
      const def = zodSchema._zod.def;
      if (def.type === 'default' && node.default === undefined) {
        const value = (def as { defaultValue: unknown }).defaultValue;
        const inner = (def as { innerType: z.core.$ZodType }).innerType;
        if (isJsonValue(value) && z.safeParse(inner, value).success) node.default = value;
      }
      // The JSON Schema `pattern` keyword has no flags; spell out case-insensitive patterns ("20MB").
      if (def.type === 'string' && typeof node.pattern === 'string') {
        const checks = (def as { checks?: Array<{ _zod: { def: { pattern?: unknown } } }> }).checks ?? [];
        const patterns = checks.map((check) => check._zod.def.pattern).filter((pattern): pattern is RegExp => pattern instanceof RegExp);
        const regex = patterns.find((candidate) => candidate.source === node.pattern);
        if (regex) node.pattern = portablePattern(regex);
      }
      // z.int() bounds every integer by Number.MAX_SAFE_INTEGER: true, but noise in an editor.
      if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
      if (node.minimum === Number.MIN_SAFE_INTEGER) delete node.minimum;
    },
  }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: SCHEMA_ID,
    title: 'Breakerbox configuration',
    description:
      'A Breakerbox gateway config file (YAML or JSON). Generated from src/config/schema.ts by `npm run schema`; see docs/configuration.md.',
    ...rest,
  };
}

/** The exact text of schema/breakerbox.schema.json. */
export function serializeJsonSchema(schema: JsonSchema): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** A regex's source with its `i` flag spelt out (`mb` -> `[mM][bB]`), as JSON Schema has no flags. */
export function portablePattern(regex: RegExp): string {
  const flags = regex.flags.replace(/[gyud]/g, '');
  if (flags === '') return regex.source;
  if (flags !== 'i' || regex.source.includes('(?<') || /\\[pPk]/.test(regex.source)) {
    throw new Error(`cannot express /${regex.source}/${regex.flags} as a JSON Schema pattern`);
  }
  let out = '';
  let inClass = false;
  const source = regex.source;
  for (let i = 0; i < source.length; i += 1) {
    const char = source[i] as string;
    if (char === '\\') {
      out += source.slice(i, i + 2);
      i += 1;
    } else if (inClass) {
      if (char === ']') inClass = false;
      else if (/[a-z]/i.test(char) && (source[i - 1] === '-' || source[i + 1] === '-')) {
        throw new Error(`cannot spell out the letter range in /${source}/i`);
      }
      out += /[a-z]/i.test(char) ? char.toLowerCase() + char.toUpperCase() : char;
    } else if (char === '[') {
      inClass = true;
      out += char;
    } else {
      out += /[a-z]/i.test(char) ? `[${char.toLowerCase()}${char.toUpperCase()}]` : char;
    }
  }
  return out;
}

function isJsonValue(value: unknown): boolean {
  try {
    return JSON.stringify(value) !== undefined;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Reference rendering

/** One key in the reference. */
export interface ReferenceRow {
  /** e.g. `providers.<name>.timeouts.idle_ms`, `models.<name>.targets[].params`. */
  path: string;
  type: string;
  /** A JSON literal, `required`, or `–` (optional, no default). */
  default: string;
  allowed: string;
  description: string;
}

/** One table of the reference: a top-level key, or one variant of a discriminated union. */
export interface ReferenceSection {
  title: string;
  description: string | undefined;
  rows: ReferenceRow[];
}

/** The placeholder for a name the user chooses (a provider or model name, a header name). */
export const NAME_PLACEHOLDER = '<name>';

type Presence = 'required' | 'optional' | 'entry';

/** Splits the schema into reference tables: one per top-level key, one per union variant. */
export function collectReferenceSections(schema: JsonSchema): ReferenceSection[] {
  const sections: ReferenceSection[] = [];
  const required = new Set(schema.required ?? []);
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    // A top-level key's own row carries its description, so the section needs none.
    const section: ReferenceSection = { title: `\`${key}\``, description: undefined, rows: [] };
    const extra: ReferenceSection[] = [];
    walk(child, key, required.has(key) ? 'required' : 'optional', section.rows, extra);
    sections.push(section, ...extra);
  }
  return sections;
}

function walk(node: JsonSchema, path: string, presence: Presence, rows: ReferenceRow[], extra: ReferenceSection[]): void {
  rows.push(row(node, path, presence));
  const union = discriminatedUnion(node);
  if (union) {
    // The union's own row stays where it sits; each variant gets a table of its own.
    extra.push(...variantSections(union, path, extra));
    return;
  }
  if (node.properties) {
    walkProperties(node, path, rows, extra);
    return;
  }
  const values = mapValues(node);
  if (values && isStructured(values)) {
    const entryPath = `${path}.${NAME_PLACEHOLDER}`;
    const valueUnion = discriminatedUnion(values);
    if (valueUnion) {
      extra.push(...variantSections(valueUnion, entryPath, extra));
    } else {
      walk(values, entryPath, 'entry', rows, extra);
    }
    return;
  }
  if (node.type === 'array' && node.items && isStructured(node.items)) {
    // List items are described by their fields; the array row above carries the description.
    if (node.items.properties) walkProperties(node.items, `${path}[]`, rows, extra);
    else walk(node.items, `${path}[]`, 'entry', rows, extra);
  }
}

/** One table per variant of a discriminated union found at `path`. */
function variantSections(union: DiscriminatedUnion, path: string, extra: ReferenceSection[]): ReferenceSection[] {
  return union.variants.map((variant) => {
    const value = String(variant.properties?.[union.key]?.const);
    const section: ReferenceSection = { title: `\`${path}\` when \`${union.key}: ${value}\``, description: variant.description, rows: [] };
    walkProperties(variant, path, section.rows, extra);
    const discriminator = section.rows.find((entry) => entry.path === `${path}.${union.key}`);
    if (discriminator && discriminator.description === '') discriminator.description = 'Selects the keys in this table.';
    return section;
  });
}

function walkProperties(node: JsonSchema, path: string, rows: ReferenceRow[], extra: ReferenceSection[]): void {
  const required = new Set(node.required ?? []);
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    walk(child, `${path}.${key}`, required.has(key) ? 'required' : 'optional', rows, extra);
  }
}

/** A union of objects told apart by one property holding a different constant in each. */
interface DiscriminatedUnion {
  key: string;
  variants: JsonSchema[];
}

function discriminatedUnion(node: JsonSchema): DiscriminatedUnion | undefined {
  const variants = node.oneOf ?? node.anyOf;
  if (!variants || variants.length < 2 || !variants.every((variant) => variant.properties)) return undefined;
  const first = variants[0] as JsonSchema;
  for (const key of Object.keys(first.properties ?? {})) {
    const constants = variants.map((variant) => variant.properties?.[key]?.const);
    if (constants.every((value) => typeof value === 'string') && new Set(constants).size === constants.length) {
      return { key, variants };
    }
  }
  return undefined;
}

/** The value schema of a map (`record`), if the node is one. */
function mapValues(node: JsonSchema): JsonSchema | undefined {
  if (node.properties || typeof node.additionalProperties !== 'object') return undefined;
  return node.additionalProperties;
}

/** Whether a node has keys of its own worth listing (objects, maps of objects, unions of objects). */
function isStructured(node: JsonSchema): boolean {
  return Boolean(node.properties || discriminatedUnion(node) || (mapValues(node) && isStructured(mapValues(node) as JsonSchema)));
}

function row(node: JsonSchema, path: string, presence: Presence): ReferenceRow {
  return {
    path,
    type: typeName(node),
    default:
      node.default !== undefined ? `\`${JSON.stringify(node.default)}\`` : presence === 'required' ? 'required' : '–',
    allowed: allowedValues(node),
    description: node.description ?? '',
  };
}

function typeName(node: JsonSchema): string {
  const union = node.oneOf ?? node.anyOf;
  if (union) return [...new Set(union.map(typeName))].join(' or ');
  if (node.const !== undefined) return typeof node.const;
  if (Array.isArray(node.type)) return node.type.join(' or ');
  switch (node.type) {
    case 'array':
      return `list of ${node.items ? typeName(node.items) : 'any'}`;
    case 'object': {
      const values = mapValues(node);
      if (values) return `map of ${typeName(values)}`;
      return 'object';
    }
    case 'string':
      return node.format === 'uri' ? 'string (URL)' : node.format ? `string (${node.format})` : 'string';
    case undefined:
      return node.properties ? 'object' : 'any';
    default:
      return node.type;
  }
}

function allowedValues(node: JsonSchema): string {
  const union = node.oneOf ?? node.anyOf;
  if (union) {
    if (discriminatedUnion(node)) return '';
    const parts = union.map((member) => {
      const allowed = allowedValues(member);
      return allowed === '' ? typeName(member) : `${typeName(member)} ${allowed}`;
    });
    return parts.join('; or ');
  }
  if (node.const !== undefined) return code(JSON.stringify(node.const).replace(/^"|"$/g, ''));
  if (node.enum) return node.enum.map((value) => code(typeof value === 'string' ? value : JSON.stringify(value))).join(', ');
  const parts: string[] = [];
  const integer = node.type === 'integer';
  let low = node.minimum;
  let high = node.maximum;
  let lowText = low === undefined ? undefined : `>= ${low}`;
  let highText = high === undefined ? undefined : `<= ${high}`;
  if (node.exclusiveMinimum !== undefined) {
    low = integer ? node.exclusiveMinimum + 1 : undefined;
    lowText = integer ? `>= ${node.exclusiveMinimum + 1}` : `> ${node.exclusiveMinimum}`;
  }
  if (node.exclusiveMaximum !== undefined) {
    high = integer ? node.exclusiveMaximum - 1 : undefined;
    highText = integer ? `<= ${node.exclusiveMaximum - 1}` : `< ${node.exclusiveMaximum}`;
  }
  if (low !== undefined && high !== undefined) parts.push(`${low} to ${high}`);
  else parts.push(...[lowText, highText].filter((text): text is string => text !== undefined));
  if (node.minLength === 1) parts.push('non-empty');
  else if (node.minLength !== undefined) parts.push(`at least ${node.minLength} characters`);
  if (node.maxLength !== undefined) parts.push(`at most ${node.maxLength} characters`);
  if (node.pattern !== undefined) parts.push(`matching ${code(node.pattern)}`);
  if (node.minItems !== undefined) parts.push(`at least ${node.minItems} item${node.minItems === 1 ? '' : 's'}`);
  if (node.maxItems !== undefined) parts.push(`at most ${node.maxItems} item${node.maxItems === 1 ? '' : 's'}`);
  const names = node.propertyNames;
  if (names) {
    if (names.minLength === 1) parts.push('names non-empty');
    if (names.pattern !== undefined) parts.push(`names matching ${code(names.pattern)}`);
  }
  return parts.join(', ');
}

function code(text: string): string {
  return text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``;
}

/** Makes text safe inside a Markdown table cell (GFM allows `\|` even inside code spans). */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

/** The Markdown placed between the reference markers in docs/configuration.md. */
export function renderConfigReference(schema: JsonSchema): string {
  const lines: string[] = [
    '<!-- Generated by `npm run schema` from src/config/schema.ts. Do not edit between the markers. -->',
    '',
    `\`${NAME_PLACEHOLDER}\` stands for a name you choose; \`[]\` marks the fields of each list item. In the Default column, ` +
      '"required" means the key must be set and "–" means it is optional with no default.',
  ];
  for (const section of collectReferenceSections(schema)) {
    lines.push('', `### ${section.title}`, '');
    if (section.description) lines.push(section.description, '');
    lines.push('| Key | Type | Default | Allowed values | Description |', '| --- | --- | --- | --- | --- |');
    for (const entry of section.rows) {
      lines.push(
        `| ${[code(entry.path), entry.type, entry.default, entry.allowed, entry.description].map(cell).join(' | ')} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Replaces what lies between the reference markers; everything outside them is kept as is. */
export function replaceGeneratedReference(document: string, reference: string): string {
  const begin = document.indexOf(REFERENCE_BEGIN);
  const end = document.indexOf(REFERENCE_END);
  if (begin === -1 || end === -1 || end < begin) {
    throw new Error(`expected the markers ${REFERENCE_BEGIN} and ${REFERENCE_END}, in that order`);
  }
  if (document.indexOf(REFERENCE_BEGIN, begin + 1) !== -1 || document.indexOf(REFERENCE_END, end + 1) !== -1) {
    throw new Error('the reference markers must appear only once');
  }
  return `${document.slice(0, begin + REFERENCE_BEGIN.length)}\n${reference}${document.slice(end)}`;
}

/** The text currently between the reference markers (for checks). */
export function extractGeneratedReference(document: string): string | undefined {
  const begin = document.indexOf(REFERENCE_BEGIN);
  const end = document.indexOf(REFERENCE_END);
  if (begin === -1 || end === -1 || end < begin) return undefined;
  return document.slice(begin + REFERENCE_BEGIN.length + 1, end);
}
