import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, formatIssue } from './issues.js';
import { parseConfigText } from './load.js';
import {
  buildConfigJsonSchema,
  CONFIGURATION_DOC_PATH,
  extractGeneratedReference,
  renderConfigReference,
  SCHEMA_PATH,
  serializeJsonSchema,
  type JsonSchema,
} from './reference-doc.js';
import { PROVIDER_TYPES } from './schema.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

const schema = buildConfigJsonSchema();
const committedSchema = read(SCHEMA_PATH);
const doc = read(CONFIGURATION_DOC_PATH);
const quickstart = read('examples/quickstart.yaml');

/** Every key path that holds a value rather than further keys, walked independently of the renderer. */
function leafPaths(node: JsonSchema, path: string): string[] {
  const variants = node.oneOf ?? node.anyOf;
  if (variants && variants.every((variant) => variant.properties)) return variants.flatMap((variant) => leafPaths(variant, path));
  if (node.properties) {
    return Object.entries(node.properties).flatMap(([key, child]) => leafPaths(child, path === '' ? key : `${path}.${key}`));
  }
  const values = typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined;
  if (values && (values.properties || values.oneOf || values.anyOf?.every((variant) => variant.properties))) {
    return leafPaths(values, `${path}.<name>`);
  }
  if (node.type === 'array' && node.items?.properties) return leafPaths(node.items, `${path}[]`);
  return [path];
}

/**
 * A small JSON Schema checker for the keywords the generated schema uses, enough to show that a
 * config document has the shape an editor would accept. Returns problems as `path: message`.
 */
function checkAgainst(node: JsonSchema, value: unknown, path = '(root)'): string[] {
  const variants = node.oneOf ?? node.anyOf;
  if (variants) {
    const matching = variants.filter((variant) => checkAgainst(variant, value, path).length === 0).length;
    if (node.oneOf ? matching === 1 : matching >= 1) return [];
    return [`${path}: matches ${matching} of ${variants.length} alternatives`];
  }
  const problems: string[] = [];
  if (node.const !== undefined && value !== node.const) problems.push(`${path}: expected ${JSON.stringify(node.const)}`);
  if (node.enum && !node.enum.includes(value)) problems.push(`${path}: not one of ${JSON.stringify(node.enum)}`);
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  switch (node.type) {
    case undefined:
      break;
    case 'integer':
      if (!Number.isInteger(value)) return [...problems, `${path}: expected integer`];
      break;
    default:
      if (node.type !== type) return [...problems, `${path}: expected ${String(node.type)}, got ${type}`];
  }
  if (typeof value === 'number') {
    if (node.minimum !== undefined && value < node.minimum) problems.push(`${path}: below minimum`);
    if (node.maximum !== undefined && value > node.maximum) problems.push(`${path}: above maximum`);
    if (node.exclusiveMinimum !== undefined && value <= node.exclusiveMinimum) problems.push(`${path}: not above minimum`);
  }
  if (typeof value === 'string') {
    if (node.minLength !== undefined && value.length < node.minLength) problems.push(`${path}: too short`);
    if (node.pattern !== undefined && !new RegExp(node.pattern).test(value)) problems.push(`${path}: does not match pattern`);
  }
  if (Array.isArray(value)) {
    if (node.minItems !== undefined && value.length < node.minItems) problems.push(`${path}: too few items`);
    if (node.items) value.forEach((item, index) => problems.push(...checkAgainst(node.items as JsonSchema, item, `${path}[${index}]`)));
  }
  if (type === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of node.required ?? []) if (!(key in record)) problems.push(`${path}.${key}: required`);
    for (const [key, item] of Object.entries(record)) {
      const known = node.properties?.[key];
      if (known) problems.push(...checkAgainst(known, item, `${path}.${key}`));
      else if (node.additionalProperties === false) problems.push(`${path}.${key}: unknown key`);
      else if (typeof node.additionalProperties === 'object') {
        if (node.propertyNames?.pattern && !new RegExp(node.propertyNames.pattern).test(key)) problems.push(`${path}.${key}: bad name`);
        problems.push(...checkAgainst(node.additionalProperties, item, `${path}.${key}`));
      }
    }
  }
  return problems;
}

/** The formatted issues of a config that must fail. */
function issuesOf(text: string, source = 'test.yaml', env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfigText(text, source, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.source, source);
    return error.issues.map(formatIssue);
  }
  assert.fail('expected the config to be rejected');
}

const MINIMAL = `
auth: { api_keys: [{ name: test, key: test-key-123 }] }
providers: { mock: { type: mock } }
models: { demo: { targets: [{ provider: mock, model: mock-1 }] } }
`;

describe('generated files are current', () => {
  it(`${SCHEMA_PATH} equals what the generator produces (run \`npm run schema\` if not)`, () => {
    assert.equal(committedSchema, serializeJsonSchema(schema));
  });

  it(`the reference in ${CONFIGURATION_DOC_PATH} equals the rendering of the schema (run \`npm run schema\` if not)`, () => {
    const section = extractGeneratedReference(doc);
    assert.ok(section !== undefined, 'the GENERATED REFERENCE markers are missing');
    assert.equal(section, renderConfigReference(schema));
  });

  it('the JSON Schema is draft-07 with an id, a title and a description', () => {
    const parsed = JSON.parse(committedSchema) as JsonSchema;
    assert.equal(parsed.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.ok(parsed.$id && parsed.title && parsed.description);
  });

  it('the JSON Schema describes what may be written: defaults are optional, sizes may be strings of any case', () => {
    const server = schema.properties?.server as JsonSchema;
    assert.deepEqual(schema.required?.sort(), ['models', 'providers']);
    assert.equal(server.properties?.max_body_bytes?.default, 20 * 1024 * 1024);
    const stringForm = server.properties?.max_body_bytes?.anyOf?.find((member) => member.type === 'string');
    assert.ok(stringForm?.pattern);
    for (const size of ['20mb', '20MB', '512 kb', '1.5gb', '100']) assert.match(size, new RegExp(stringForm.pattern), size);
    assert.doesNotMatch('20 megabytes', new RegExp(stringForm.pattern));
  });
});

describe('docs/configuration.md covers the schema', () => {
  const paths = leafPaths(schema, '');

  it('lists every leaf key path', () => {
    assert.ok(paths.length > 40, `only ${paths.length} leaf paths found`);
    for (const expected of ['server.max_body_bytes', 'providers.<name>.timeouts.idle_ms', 'models.<name>.targets[].params']) {
      assert.ok(paths.includes(expected), `walker misses ${expected}`);
    }
    const missing = paths.filter((path) => !doc.includes(`\`${path}\``));
    assert.deepEqual(missing, [], 'key paths missing from docs/configuration.md');
  });

  it('has one table per provider type', () => {
    for (const type of PROVIDER_TYPES) assert.ok(doc.includes(`### \`providers.<name>\` when \`type: ${type}\``), type);
  });

  it('the full example in the guide is a valid config', () => {
    const example = /## Full example[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    assert.ok(example, 'no yaml block under "## Full example"');
    const env = { BB_BACKEND_KEY: 'backend-key-123', BB_NOTEBOOK_KEY: 'notebook-key-123', OPENAI_API_KEY: 'sk-x', GROQ_API_KEY: 'gsk-x' };
    const config = parseConfigText(example, 'example.yaml', env);
    assert.equal(config.server.max_body_bytes, 8 * 1024 * 1024);
    assert.deepEqual(checkAgainst(schema, parseYaml(example)), []);
  });

  it('the sample `breakerbox validate` output in the guide is what the sample file gives', () => {
    const sample = /Given this file[\s\S]*?```yaml\n([\s\S]*?)```[\s\S]*?```console\n([\s\S]*?)```/.exec(doc);
    assert.ok(sample, 'no sample file and output under "Given this file"');
    const [, text, output] = sample as unknown as [string, string, string];
    const [command, summary, ...lines] = output.trimEnd().split('\n');
    assert.match(command as string, /^\$ breakerbox validate --config broken\.yaml$/);
    const issues = issuesOf(text, 'broken.yaml');
    assert.equal(summary, `broken.yaml: ${issues.length} errors`);
    assert.deepEqual(lines, issues.map((issue) => `  ${issue}`));
  });
});

describe('examples/quickstart.yaml', () => {
  const raw = parseYaml(quickstart) as Record<string, unknown>;

  it('uses only top-level keys and provider types the schema knows', () => {
    const topLevel = Object.keys(schema.properties ?? {});
    for (const key of Object.keys(raw)) assert.ok(topLevel.includes(key), `unknown top-level key ${key}`);
    const variants = (schema.properties?.providers?.additionalProperties as JsonSchema).oneOf ?? [];
    const types = variants.map((variant) => variant.properties?.type?.const);
    assert.deepEqual([...types], [...PROVIDER_TYPES]);
    for (const [name, provider] of Object.entries(raw.providers as Record<string, { type: string }>)) {
      assert.ok(types.includes(provider.type), `providers.${name}.type ${provider.type}`);
    }
  });

  it('validates against the generated JSON Schema', () => {
    assert.deepEqual(checkAgainst(schema, raw), []);
    // The checker is not vacuous: it catches an unknown key and a bad provider type.
    assert.notDeepEqual(checkAgainst(schema, { ...raw, sever: {} }), []);
    assert.notDeepEqual(checkAgainst(schema, { ...raw, providers: { mock: { type: 'mocks' } } }), []);
  });

  it('parses with parseConfigText', () => {
    const config = parseConfigText(quickstart, 'examples/quickstart.yaml', {});
    assert.equal(config.server.port, 8080);
    assert.equal(config.providers.mock?.type, 'mock');
    assert.deepEqual(Object.keys(config.models), ['demo']);
  });
});

describe('config error reporting', () => {
  it('names a misspelt provider reference with its key path and the defined providers', () => {
    const issues = issuesOf(`
auth: { disabled: true }
providers: { openai: { type: openai, api_key: sk-test } }
models: { fast: { targets: [{ provider: opnai, model: gpt-4o-mini }] } }
`);
    assert.deepEqual(issues, ['models.fast.targets[0].provider: unknown provider "opnai" (defined providers: openai)']);
  });

  it('reports an unknown key at its path', () => {
    assert.deepEqual(issuesOf(`${MINIMAL}server: { max_body: 20mb }\n`), ['server.max_body: unknown key']);
    assert.deepEqual(issuesOf(`${MINIMAL}sever: {}\n`), ['sever: unknown key']);
  });

  it('names a missing environment variable and the key, never a value', () => {
    const issues = issuesOf(MINIMAL.replace('key: test-key-123', 'key: "${env:BB_TEST_KEY}"'));
    assert.deepEqual(issues, ['auth.api_keys[0].key: environment variable BB_TEST_KEY is not set']);

    const secret = 'sk-secret-value-123';
    const wrongPlace = `${MINIMAL}server: { port: "\${env:SECRET_PORT}" }\n`;
    const error = (() => {
      try {
        parseConfigText(wrongPlace, 'test.yaml', { SECRET_PORT: secret });
      } catch (thrown) {
        return thrown as ConfigError;
      }
      return assert.fail('expected the config to be rejected');
    })();
    assert.deepEqual(error.issues.map(formatIssue), ['server.port: expected number, got string']);
    assert.ok(!error.message.includes(secret), 'a value reached the error message');
  });

  it('uses an env default when the variable is unset or empty', () => {
    const text = MINIMAL.replace('key: test-key-123', 'key: "${env:BB_TEST_KEY:-fallback-key-1}"');
    assert.equal(parseConfigText(text, 'test.yaml', {}).auth.api_keys[0]?.key, 'fallback-key-1');
    assert.equal(parseConfigText(text, 'test.yaml', { BB_TEST_KEY: '' }).auth.api_keys[0]?.key, 'fallback-key-1');
    assert.equal(parseConfigText(text, 'test.yaml', { BB_TEST_KEY: 'from-env-123' }).auth.api_keys[0]?.key, 'from-env-123');
  });

  it('names the allowed types for an unknown or missing provider type', () => {
    const issues = issuesOf(MINIMAL.replace('{ mock: { type: mock } }', '{ mock: { type: mock }, local: { type: vllm }, other: { base_url: "http://x" } }'));
    assert.ok(issues.includes(`providers.local.type: unknown provider type "vllm" (expected one of: ${PROVIDER_TYPES.join(', ')})`), issues.join('\n'));
    assert.ok(issues.includes(`providers.other.type: missing provider type (expected one of: ${PROVIDER_TYPES.join(', ')})`), issues.join('\n'));
  });

  it('reports YAML syntax errors', () => {
    const issues = issuesOf('server:\n  port: 8080\n   host: x\n');
    assert.ok(issues.length > 0);
    for (const issue of issues) assert.match(issue, /^\(root\): invalid YAML: /);
  });

  it('accepts JSON configs by their .json name, and reports JSON syntax errors', () => {
    const json = JSON.stringify({
      auth: { api_keys: [{ name: 'test', key: 'test-key-123' }] },
      providers: { mock: { type: 'mock' } },
      models: { demo: { targets: [{ provider: 'mock', model: 'mock-1' }] } },
    });
    const config = parseConfigText(json, 'config.json', {});
    assert.equal(config.providers.mock?.type, 'mock');
    assert.equal(config.server.host, '127.0.0.1');
    const issues = issuesOf('{"providers": ', 'config.json');
    assert.equal(issues.length, 1);
    assert.match(issues[0] as string, /^\(root\): invalid JSON: /);
  });

  it('reports several errors at once', () => {
    const issues = issuesOf(
      `
server: { port: 99999, colour: blue }
providers:
  openai: { type: openai, api_key: "\${env:OPENAI_API_KEY}" }
  mock: { type: mock, reply: { mode: shout } }
models: { fast: { targets: [{ provider: opnai, model: gpt-4o-mini }] } }
`,
      'test.yaml',
      {},
    );
    const paths = issues.map((issue) => issue.slice(0, issue.indexOf(':')));
    for (const path of ['server.port', 'server.colour', 'providers.openai.api_key', 'providers.mock.reply.mode', 'models.fast.targets[0].provider', 'auth.api_keys']) {
      assert.ok(paths.includes(path), `no issue at ${path}:\n${issues.join('\n')}`);
    }
  });

  it('turns sizes into bytes', () => {
    const sized = (value: string) => parseConfigText(`${MINIMAL}server: { max_body_bytes: ${value} }\n`, 'test.yaml', {}).server.max_body_bytes;
    assert.equal(sized('1mb'), 1_048_576);
    assert.equal(sized('"512KB"'), 524_288);
    assert.equal(sized('1.5kb'), 1536);
    assert.equal(sized('1000'), 1000);
    assert.equal(parseConfigText(MINIMAL, 'test.yaml', {}).server.max_body_bytes, 20 * 1024 * 1024);
    assert.deepEqual(issuesOf(`${MINIMAL}server: { max_body_bytes: 20 megabytes }\n`), ['server.max_body_bytes: expected a size such as 512kb or 20mb']);
  });

  it('refuses a size of zero', () => {
    assert.deepEqual(issuesOf(`${MINIMAL}server: { max_body_bytes: "0kb" }\n`), ['server.max_body_bytes: must be at least 1 byte']);
  });

  it('explains a model name that is not allowed', () => {
    const issues = issuesOf(`${MINIMAL.replace('demo:', '"two words":')}`);
    assert.ok(issues.includes('models["two words"]: model names contain no spaces'), issues.join('\n'));
  });

  it('refuses target params that would override what the gateway sets', () => {
    const issues = issuesOf(MINIMAL.replace('model: mock-1 }', 'model: mock-1, params: { model: other, temperature: 0.1 } }'));
    assert.deepEqual(issues, ['models.demo.targets[0].params: may not set model, messages, input, stream, stream_options (the gateway owns them)']);
  });

  it('refuses duplicate API key names and values without echoing the key', () => {
    const issues = issuesOf(MINIMAL.replace('[{ name: test, key: test-key-123 }]', '[{ name: a, key: test-key-123 }, { name: a, key: test-key-123 }]'));
    assert.deepEqual(issues, ['auth.api_keys[1].name: duplicate key name "a"', 'auth.api_keys[1].key: the same key is configured twice']);
    for (const issue of issues) assert.ok(!issue.includes('test-key-123'));
  });

  it('reports one YAML syntax error, not its echoes', () => {
    const issues = issuesOf('providers: { a: ${env:X} }\nmodels: {}\n');
    assert.equal(issues.length, 1);
  });
});
