import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './issues.js';
import { checkReferences } from './references.js';
import { configSchema, type Config } from './schema.js';

const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Reads, interpolates and validates a config file; throws ConfigError listing every problem. */
export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  return parseConfigText(await readConfigText(path), path, env);
}

/** A config file's text; a missing or unreadable file is a ConfigError like any other problem. */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : 'cannot be read';
    throw new ConfigError(path, [{ path: [], message: reason }]);
  }
}

/** Parses YAML or JSON text into a validated config. `source` names the text in error messages. */
export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): Config {
  const raw = parseDocumentText(text, source);
  const issues: ConfigIssue[] = [];
  const interpolated = interpolateEnv(raw, [], env, issues);
  const result = configSchema.safeParse(interpolated, { reportInput: true });
  if (!result.success) {
    // A missing variable leaves an empty string behind; its own issue already explains the key.
    const envPaths = new Set(issues.map((issue) => issue.path.join('\u0000')));
    const shapeIssues = result.error.issues.flatMap(toConfigIssues).filter((issue) => !envPaths.has(issue.path.join('\u0000')));
    issues.push(...shapeIssues);
  }
  issues.push(...checkReferences(interpolated));
  if (issues.length > 0) throw new ConfigError(source, dedupe(issues));
  return (result as { data: Config }).data;
}

function parseDocumentText(text: string, source: string): unknown {
  if (extname(source).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(source, [{ path: [], message: `invalid JSON: ${(error as Error).message}` }]);
    }
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    // The first syntax error is the one to fix; later ones are usually its echoes.
    const first = document.errors[0] as { message: string };
    const more = document.errors.length > 1 ? ` (and ${document.errors.length - 1} more that may follow from it)` : '';
    throw new ConfigError(source, [{ path: [], message: `invalid YAML: ${first.message.split('\n')[0]?.replace(/:\s*$/, '')}${more}` }]);
  }
  return document.toJS() as unknown;
}

/**
 * Replaces `${env:NAME}` (or `${env:NAME:-default}`) in every string value. A missing variable is
 * an issue naming the variable and the key, never its would-be value.
 */
function interpolateEnv(value: unknown, path: Array<string | number>, env: NodeJS.ProcessEnv, issues: ConfigIssue[]): unknown {
  if (typeof value === 'string') {
    if (!value.includes('${')) return value;
    return value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      issues.push({ path, message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, [...path, index], env, issues));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = interpolateEnv(item, [...path, key], env, issues);
    return out;
  }
  return value;
}

function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const path = issue.path.filter((segment): segment is string | number => typeof segment !== 'symbol');
  if (issue.code === 'invalid_key') {
    // A record key failed its own check (e.g. a model name with a space): report that check.
    return issue.issues.map((inner) => ({ path, message: inner.message }));
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key' }));
  }
  if (issue.code === 'invalid_type') {
    // Never echo the input itself: it may be a secret that landed under the wrong key.
    const got = issue.input === undefined ? 'nothing' : Array.isArray(issue.input) ? 'array' : issue.input === null ? 'null' : typeof issue.input;
    return [{ path, message: issue.input === undefined ? `required (expected ${issue.expected})` : `expected ${issue.expected}, got ${got}` }];
  }
  return [{ path, message: issue.message }];
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path.join('\u0000')}\u0001${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
