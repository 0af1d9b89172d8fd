import { ConfigError, formatIssue } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';

/** Prints every config error with its key path; exit code 1 when there is any. */
export async function runValidate(path: string): Promise<number> {
  try {
    const config = await loadConfigFile(path);
    const providers = Object.keys(config.providers).length;
    const models = Object.keys(config.models).length;
    process.stdout.write(`${path}: OK (${providers} provider${providers === 1 ? '' : 's'}, ${models} model${models === 1 ? '' : 's'})\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(path, error);
    return 1;
  }
}

/** The wording of a config error report, shared by `validate`, `start` and a rejected reload's log line. */
export function describeConfigError(path: string, error: ConfigError): { summary: string; issues: string[] } {
  return { summary: `${path}: ${error.issues.length} error${error.issues.length === 1 ? '' : 's'}`, issues: error.issues.map(formatIssue) };
}

export function reportConfigError(path: string, error: ConfigError): void {
  const { summary, issues } = describeConfigError(path, error);
  process.stderr.write(`${summary}\n`);
  for (const issue of issues) process.stderr.write(`  ${issue}\n`);
}
