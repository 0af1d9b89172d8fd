/**
 * Regenerates schema/breakerbox.schema.json and the key reference in docs/configuration.md (between
 * its GENERATED REFERENCE markers) from the zod config schema in src/config/schema.ts.
 *
 *   npm run schema              write both files
 *   npm run schema -- --check   write nothing; exit 1 if either file is out of date (for CI)
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  buildConfigJsonSchema,
  CONFIGURATION_DOC_PATH,
  renderConfigReference,
  replaceGeneratedReference,
  SCHEMA_PATH,
  serializeJsonSchema,
} from '../src/config/reference-doc.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Output {
  path: string;
  current: string | undefined;
  wanted: string;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { check: { type: 'boolean', default: false } } });
  const schema = buildConfigJsonSchema();

  const schemaFile = resolve(ROOT, SCHEMA_PATH);
  const docFile = resolve(ROOT, CONFIGURATION_DOC_PATH);
  const doc = await readIfExists(docFile);
  if (doc === undefined) {
    process.stderr.write(`${CONFIGURATION_DOC_PATH}: not found (it holds the hand-written guide around the generated reference)\n`);
    return 1;
  }
  let wantedDoc: string;
  try {
    wantedDoc = replaceGeneratedReference(doc, renderConfigReference(schema));
  } catch (error) {
    process.stderr.write(`${CONFIGURATION_DOC_PATH}: ${(error as Error).message}\n`);
    return 1;
  }

  const outputs: Output[] = [
    { path: SCHEMA_PATH, current: await readIfExists(schemaFile), wanted: serializeJsonSchema(schema) },
    { path: CONFIGURATION_DOC_PATH, current: doc, wanted: wantedDoc },
  ];
  const stale = outputs.filter((output) => output.current !== output.wanted);

  if (values.check) {
    if (stale.length === 0) {
      process.stdout.write(`${SCHEMA_PATH} and ${CONFIGURATION_DOC_PATH} are up to date.\n`);
      return 0;
    }
    for (const output of stale) {
      const what = output.current === undefined ? 'is missing' : 'is out of date with src/config/schema.ts';
      process.stderr.write(`${output.path} ${what}.\n`);
    }
    process.stderr.write('Run `npm run schema` and commit the result.\n');
    return 1;
  }

  for (const output of stale) {
    const file = resolve(ROOT, output.path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, output.wanted, 'utf8');
    process.stdout.write(`wrote ${output.path}\n`);
  }
  if (stale.length === 0) process.stdout.write(`${SCHEMA_PATH} and ${CONFIGURATION_DOC_PATH} were already up to date.\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`generate-schema: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
