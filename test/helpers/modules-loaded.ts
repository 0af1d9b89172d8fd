import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

/**
 * Runs `body` (ES module code, run from the project root) in a fresh process whose resolve hook
 * reports every import whose specifier matches `pattern` (a regular expression's source), and
 * returns those specifiers in import order. The body must run to its end, or this fails.
 */
export function modulesLoadedBy(pattern: string, body: string): string[] {
  const hook = `export async function resolve(specifier, context, next) {
    if (new RegExp(${JSON.stringify(pattern)}).test(specifier)) process.stdout.write('LOADED ' + specifier + '\\n');
    return next(specifier, context);
  }`;
  const child = `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}));
    ${body}
    process.stdout.write('BODY DONE\\n');
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child], { cwd: new URL('../..', import.meta.url).pathname, encoding: 'utf8', timeout: 30_000 });
  assert.match(out, /BODY DONE/);
  return out.split('\n').filter((line) => line.startsWith('LOADED ')).map((line) => line.slice('LOADED '.length));
}
